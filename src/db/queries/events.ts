import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";
import { idArray } from "./ids.js";

export interface StoredEvent {
  lead_id: number;
  type: string;
  /** Epoch milliseconds. */
  at: number;
  properties: Record<string, unknown>;
}

/** Every stored event of the given leads: what a rebuilt activity is made from. */
export function eventsOfLeads(tx: DbOrTx, p: { ids: readonly number[] }): Promise<StoredEvent[]> {
  return execRows<StoredEvent>(
    tx,
    sql`select lead_id::int as lead_id, type, (extract(epoch from occurred_at) * 1000)::float8 as at, properties
        from events where lead_id = any(${idArray(p.ids)})`,
  );
}

export interface InsertEventsParams {
  /** Positional rows: [id, lead_id, type, occurred_at (ISO), properties]. */
  rows: readonly (readonly unknown[])[];
}

/** Appends events, skipping ids already stored; returns the ids it inserted. */
export function insertEvents(tx: DbOrTx, p: InsertEventsParams): Promise<{ id: string }[]> {
  return execRows<{ id: string }>(
    tx,
    // Positional jsonb rows: extracting elements copies them, where json_to_recordset would
    // re-parse every properties object.
    sql`insert into events (id, lead_id, type, occurred_at, properties)
        select e->>0, (e->>1)::bigint, e->>2, (e->>3)::timestamptz, e->4
        from jsonb_array_elements(${JSON.stringify(p.rows)}::jsonb) e
        on conflict (id) do nothing
        returning id`,
  );
}

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

/**
 * Appends events, skipping ids already stored; returns the ids it inserted. Exactly once rests on
 * `event_ids`: an id goes into it and its event into `events` in one statement, and only ids the
 * ledger took (ON CONFLICT DO NOTHING, which waits for a concurrent insert of the same id to
 * commit or roll back) reach `events`. Any other way of writing events must do the same.
 */
export function insertEvents(tx: DbOrTx, p: InsertEventsParams): Promise<{ id: string }[]> {
  return execRows<{ id: string }>(
    tx,
    // Positional jsonb rows: extracting elements copies them, where json_to_recordset would
    // re-parse every properties object.
    sql`with input as (
          select distinct on (e->>0) e->>0 as id, (e->>1)::bigint as lead_id, e->>2 as type,
            (e->>3)::timestamptz as occurred_at, e->4 as properties
          from jsonb_array_elements(${JSON.stringify(p.rows)}::jsonb) e
        ), fresh as (
          insert into event_ids (id) select id from input on conflict (id) do nothing returning id
        )
        insert into events (id, lead_id, type, occurred_at, properties)
        select i.id, i.lead_id, i.type, i.occurred_at, i.properties from input i join fresh using (id)
        returning id`,
  );
}

/**
 * Forgets the ids of a lead's stored events, so the person leaves no trace in the ledger when
 * erased; run before the lead is deleted (its events go with it, in every partition).
 */
export async function deleteEventIdsOfLead(tx: DbOrTx, p: { leadId: number }): Promise<void> {
  await tx.execute(
    sql`delete from event_ids where id in (select id from events where lead_id = ${p.leadId})`,
  );
}

/** Events before this time were dropped by retention; null while every event is kept. */
export async function eventsKeptFrom(tx: DbOrTx): Promise<number | null> {
  const [row] = await execRows<{ at: number }>(
    tx,
    sql`select (extract(epoch from kept_from) * 1000)::float8 as at from event_retention`,
  );
  return row ? Number(row.at) : null;
}

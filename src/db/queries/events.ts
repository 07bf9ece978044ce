import { sql } from "drizzle-orm";
import { type DbOrTx, execRows, preparedRows } from "../client.js";
import { idArray } from "./ids.js";

export interface StoredEvent {
  lead_id: number;
  type: string;
  /** Epoch milliseconds. */
  at: number;
  properties: Record<string, unknown>;
}

/**
 * Every scored event of the given leads: what a rebuilt activity is made from. Events still
 * marked (see `event_marks`) are left out: the scorer applies them when it takes their mark.
 */
export function eventsOfLeads(tx: DbOrTx, p: { ids: readonly number[] }): Promise<StoredEvent[]> {
  return execRows<StoredEvent>(
    tx,
    sql`select e.lead_id::int as lead_id, e.type,
          (extract(epoch from e.occurred_at) * 1000)::float8 as at, e.properties
        from events e where e.lead_id = any(${idArray(p.ids)})
          and (e.batch is null or not exists (select 1 from event_marks m
            where m.lead_id = e.lead_id and m.batch = e.batch))`,
  );
}

export interface InsertEventsParams {
  /** Positional rows: [id, lead_id, type, occurred_at (ISO), properties]. */
  rows: readonly (readonly unknown[])[];
  /**
   * Leave the events to the scorer: mark each lead with an inserted event, and each of
   * `alsoMark` (leads created for this batch), in the same statement. Unset: the caller scores
   * them in its own transaction.
   */
  mark?: { alsoMark: readonly number[] } | undefined;
}

/**
 * The one statement that appends events: skips ids already stored, numbers the insert from
 * `event_batch_seq`, and writes the marks the scorer takes. Prepared: it runs once per request.
 * Positional jsonb rows: extracting elements copies them, where json_to_recordset would re-parse
 * every properties object. Returns the ids it inserted.
 */
const INSERT_EVENTS = `
  with b as (select nextval('event_batch_seq') as batch),
  ins as (
    insert into events (id, lead_id, type, occurred_at, properties, batch)
    select e->>0, (e->>1)::bigint, e->>2, (e->>3)::timestamptz, e->4, (select batch from b)
    from jsonb_array_elements($1::text::jsonb) e
    on conflict (id) do nothing
    returning id, lead_id
  ), marks as (
    insert into event_marks (lead_id, batch)
    select x.lead_id, (select batch from b)
    from (select lead_id from ins union select unnest($2::bigint[])) x
    where $3::boolean
  )
  select id from ins`;

export function insertEvents(tx: DbOrTx, p: InsertEventsParams): Promise<{ id: string }[]> {
  return preparedRows<{ id: string }>(tx, INSERT_EVENTS, [
    JSON.stringify(p.rows),
    [...(p.mark?.alsoMark ?? [])],
    p.mark !== undefined,
  ]);
}

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
/**
 * The one statement that appends events: skips ids already stored, numbers the insert from
 * `event_batch_seq`, and writes the marks the scorer takes. Prepared: it runs once per request.
 * Exactly once rests on `event_ids`: an id goes into it and its event into `events` in one
 * statement, and only ids the ledger took (ON CONFLICT DO NOTHING, which waits for a concurrent
 * insert of the same id to commit or roll back) reach `events`, whose partitions can hold no
 * unique key on the id alone. Any other way of writing events must do the same. Positional jsonb
 * rows: extracting elements copies them, where json_to_recordset would re-parse every properties
 * object. Returns the ids it inserted.
 */
const INSERT_EVENTS = `
  with b as (select nextval('event_batch_seq') as batch),
  input as (
    select distinct on (e->>0) e->>0 as id, (e->>1)::bigint as lead_id, e->>2 as type,
      (e->>3)::timestamptz as occurred_at, e->4 as properties
    from jsonb_array_elements($1::text::jsonb) e
  ), fresh as (
    insert into event_ids (id) select id from input on conflict (id) do nothing returning id
  ), ins as (
    insert into events (id, lead_id, type, occurred_at, properties, batch)
    select i.id, i.lead_id, i.type, i.occurred_at, i.properties, (select batch from b)
    from input i join fresh using (id)
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

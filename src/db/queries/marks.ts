import { type DbOrTx, preparedRows } from "../client.js";
import type { StoredEvent } from "./events.js";

/** One `event_marks` row: the events of one insert for one lead, not yet scored. */
export interface Mark {
  lead_id: number;
  batch: number;
}

export interface ClaimMarksParams {
  /** Oldest marks whose leads are taken (each with all its other free marks). */
  leads: number;
  /** Most marks one claim returns. */
  limit: number;
}

/**
 * Claims the leads of the oldest marks, with every free mark of theirs so one scoring takes all
 * of a lead's new events. SKIP LOCKED: marks another scorer holds are left to it, never waited on.
 */
const CLAIM = `
  with picked as (
    select lead_id from event_marks order by batch limit $1 for update skip locked
  )
  select lead_id::float8 as lead_id, batch::float8 as batch from event_marks
  where lead_id in (select lead_id from picked)
  order by lead_id, batch
  limit $2
  for update skip locked`;

export function claimMarks(tx: DbOrTx, p: ClaimMarksParams): Promise<Mark[]> {
  return preparedRows<Mark>(tx, CLAIM, [p.leads, p.limit]);
}

const CLAIM_LEADS = `
  select lead_id::float8 as lead_id, batch::float8 as batch from event_marks
  where lead_id = any($1::bigint[])
  order by lead_id, batch
  for update skip locked`;

/** Claims the free marks of the given leads (a reader waiting for their fresh scores). */
export function claimLeadMarks(tx: DbOrTx, ids: readonly number[]): Promise<Mark[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return preparedRows<Mark>(tx, CLAIM_LEADS, [[...ids]]);
}

/**
 * The scorer's reads go by index whatever the statistics say: its statements are prepared, and a
 * plan made while a month's partition (or `event_marks`) was still empty scans it in full for every
 * mark once it has filled, which slowed a round from milliseconds to minutes. `set local`: until
 * the scorer's transaction ends, or `readByAnyPlan`.
 */
export async function readByIndex(tx: DbOrTx): Promise<void> {
  await preparedRows(tx, "set local enable_seqscan = off", []);
}

/** Gives the planner its free hand back for the rest of the transaction (scoring, writing). */
export async function readByAnyPlan(tx: DbOrTx): Promise<void> {
  await preparedRows(tx, "set local enable_seqscan = on", []);
}

const DELETE = `
  delete from event_marks m using unnest($1::bigint[], $2::bigint[]) x(lead_id, batch)
  where m.lead_id = x.lead_id and m.batch = x.batch`;

/** Deletes claimed marks, in the transaction that scores their events. */
export async function deleteMarks(tx: DbOrTx, marks: readonly Mark[]): Promise<void> {
  if (marks.length === 0) return;
  await preparedRows(tx, DELETE, [marks.map((m) => m.lead_id), marks.map((m) => m.batch)]);
}

const MARKED_EVENTS = `
  select e.lead_id::float8 as lead_id, e.type,
    (extract(epoch from e.occurred_at) * 1000)::float8 as at, e.properties
  from unnest($1::bigint[], $2::bigint[]) x(lead_id, batch)
  join events e on e.batch = x.batch and e.lead_id = x.lead_id`;

/** The events the given marks stand for. */
export function markedEvents(tx: DbOrTx, marks: readonly Mark[]): Promise<StoredEvent[]> {
  if (marks.length === 0) return Promise.resolve([]);
  return preparedRows<StoredEvent>(tx, MARKED_EVENTS, [
    marks.map((m) => m.lead_id),
    marks.map((m) => m.batch),
  ]);
}

/** Which of the given leads have events accepted and not yet scored. */
export async function leadsWithMarks(db: DbOrTx, ids: readonly number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await preparedRows<{ lead_id: number }>(
    db,
    "select distinct lead_id::float8 as lead_id from event_marks where lead_id = any($1::bigint[])",
    [[...ids]],
  );
  return new Set(rows.map((r) => Number(r.lead_id)));
}

/** Whether any mark as old as `batch` (or older) is still there; any at all when undefined. */
export async function marksUpTo(db: DbOrTx, batch: number | undefined): Promise<boolean> {
  const rows = await preparedRows<{ one: number }>(
    db,
    "select 1 as one from event_marks where batch <= $1::bigint limit 1",
    [batch ?? Number.MAX_SAFE_INTEGER],
  );
  return rows.length > 0;
}

/** The newest mark's insert number (0 when none): what "everything accepted so far" reaches. */
export async function newestMark(db: DbOrTx): Promise<number> {
  const [row] = await preparedRows<{ batch: number }>(
    db,
    "select coalesce(max(batch), 0)::float8 as batch from event_marks",
    [],
  );
  return Number(row?.batch ?? 0);
}

/** Marks waiting: leads-and-inserts accepted and not yet scored. */
export async function markBacklog(db: DbOrTx): Promise<{ marks: number }> {
  const [row] = await preparedRows<{ marks: number }>(
    db,
    "select count(*)::float8 as marks from event_marks",
    [],
  );
  return { marks: Number(row?.marks ?? 0) };
}

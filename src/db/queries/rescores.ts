import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

export interface RescoreRun {
  id: number;
  modelKey: string;
  cause: string;
  afterLeadId: number;
}

interface RunRow {
  id: number;
  model_key: string;
  cause: string;
  after_lead_id: number;
}

const toRun = (r: RunRow): RescoreRun => ({
  id: r.id,
  modelKey: r.model_key,
  cause: r.cause,
  afterLeadId: r.after_lead_id,
});

export interface StartRunParams {
  modelKey: string;
  cause: string;
  claimedBy: string;
  leaseSeconds: number;
}

/** Records a rescore as started and claimed by its walker. */
export async function startRescoreRun(db: DbOrTx, p: StartRunParams): Promise<number> {
  const [row] = await execRows<{ id: number }>(
    db,
    sql`insert into rescore_runs (model_key, cause, claimed_by, claimed_until)
        values (${p.modelKey}, ${p.cause}, ${p.claimedBy},
          now() + make_interval(secs => ${p.leaseSeconds}))
        returning id::int as id`,
  );
  if (!row) throw new Error("rescore run not created");
  return row.id;
}

/**
 * Moves a run past a chunk and renews its claim; call in the chunk's transaction. A run only moves
 * forward: chunks committed out of order (a change of points applies two at once) never move it
 * back.
 */
export async function advanceRescoreRun(
  db: DbOrTx,
  p: { id: number; afterLeadId: number; leaseSeconds: number },
): Promise<void> {
  await db.execute(sql`
    update rescore_runs set after_lead_id = greatest(after_lead_id, ${p.afterLeadId}),
      claimed_until = now() + make_interval(secs => ${p.leaseSeconds})
    where id = ${p.id}`);
}

export async function finishRescoreRun(db: DbOrTx, id: number): Promise<void> {
  await db.execute(sql`
    update rescore_runs set finished_at = now(), claimed_by = null, claimed_until = null
    where id = ${id}`);
}

export interface ClaimRunParams {
  claimedBy: string;
  leaseSeconds: number;
  /** Take runs whatever their claim (one process owns the database: every claim is dead). */
  ignoreClaims: boolean;
  /** Only runs up to this id: later ones belong to walkers of this process. */
  upTo: number;
}

/** Claims the oldest unfinished run nobody holds; undefined when there is none. */
export async function claimRescoreRun(
  db: DbOrTx,
  p: ClaimRunParams,
): Promise<RescoreRun | undefined> {
  const [row] = await execRows<RunRow>(
    db,
    sql`update rescore_runs
        set claimed_by = ${p.claimedBy},
          claimed_until = now() + make_interval(secs => ${p.leaseSeconds})
        where id = (
          select id from rescore_runs
          where finished_at is null and id <= ${p.upTo}
            and (${p.ignoreClaims} or claimed_until is null or claimed_until < now())
          order by id limit 1
          for update skip locked)
        returning id::int as id, model_key, cause, after_lead_id::int as after_lead_id`,
  );
  return row ? toRun(row) : undefined;
}

/** The unfinished runs, oldest first (tests and health). */
export async function openRescoreRuns(db: DbOrTx): Promise<RescoreRun[]> {
  const rows = await execRows<RunRow>(
    db,
    sql`select id::int as id, model_key, cause, after_lead_id::int as after_lead_id
        from rescore_runs where finished_at is null order by id`,
  );
  return rows.map(toRun);
}

export async function lastRescoreRunId(db: DbOrTx): Promise<number> {
  const [row] = await execRows<{ id: number }>(
    db,
    sql`select coalesce(max(id), 0)::int as id from rescore_runs`,
  );
  return row?.id ?? 0;
}

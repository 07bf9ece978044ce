import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

export interface TickParams {
  job: string;
  tick: Date;
}

/**
 * Claims a tick for one instance: the first to insert (job, tick) runs it, the others skip.
 * Unlike an advisory lock, this also holds when instances tick at slightly different moments.
 */
export async function claimTick(
  db: DbOrTx,
  p: TickParams & { instance: string },
): Promise<boolean> {
  const rows = await execRows<{ job: string }>(
    db,
    sql`insert into job_runs (job, tick, instance) values (${p.job}, ${p.tick.toISOString()}::timestamptz, ${p.instance})
        on conflict do nothing returning job`,
  );
  return rows.length > 0;
}

export async function finishTick(
  db: DbOrTx,
  p: TickParams & { ok: boolean; detail?: string | undefined },
): Promise<void> {
  await db.execute(
    sql`update job_runs set finished_at = now(), ok = ${p.ok}, detail = ${p.detail ?? null}
        where job = ${p.job} and tick = ${p.tick.toISOString()}::timestamptz`,
  );
}

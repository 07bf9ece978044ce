import { sql } from "drizzle-orm";
import cron, { type ScheduledTask } from "node-cron";
import { type Db, execRows } from "../db/client.js";
import type { Logger } from "../lib/logger.js";

export interface Job {
  name: string;
  /** Cron expression, or "off". */
  schedule: string;
  run(): Promise<string | undefined>;
}

/**
 * Claims a tick for one instance: the first to insert (job, tick) runs it, the others skip.
 * Unlike an advisory lock, this also holds when instances tick at slightly different moments.
 */
export async function claimTick(
  db: Db,
  job: string,
  tick: Date,
  instance: string,
): Promise<boolean> {
  const rows = await execRows<{ job: string }>(
    db,
    sql`insert into job_runs (job, tick, instance) values (${job}, ${tick.toISOString()}::timestamptz, ${instance})
        on conflict do nothing returning job`,
  );
  return rows.length > 0;
}

export async function finishTick(db: Db, job: string, tick: Date, ok: boolean, detail?: string) {
  await db.execute(
    sql`update job_runs set finished_at = now(), ok = ${ok}, detail = ${detail ?? null}
        where job = ${job} and tick = ${tick.toISOString()}::timestamptz`,
  );
}

/** Runs a job's tick once across all instances that share the database. */
export async function runTick(db: Db, job: Job, tick: Date, instance: string, logger: Logger) {
  if (!(await claimTick(db, job.name, tick, instance))) {
    logger.debug({ job: job.name, tick }, "tick taken by another instance");
    return false;
  }
  try {
    const detail = await job.run();
    await finishTick(db, job.name, tick, true, detail);
    logger.info({ job: job.name, detail }, "job finished");
  } catch (err) {
    logger.error({ err, job: job.name }, "job failed");
    await finishTick(db, job.name, tick, false, (err as Error).message);
  }
  return true;
}

export function startScheduler(db: Db, jobs: Job[], instance: string, logger: Logger) {
  const tasks: ScheduledTask[] = [];
  for (const job of jobs) {
    if (job.schedule === "off") continue;
    if (!cron.validate(job.schedule)) {
      throw new Error(
        `The schedule of job ${job.name} ("${job.schedule}") is not a cron expression.`,
      );
    }
    tasks.push(
      cron.schedule(
        job.schedule,
        (ctx) => {
          // Ticks are named by the minute they fire in, the same on every instance.
          const tick = new Date(Math.floor(ctx.date.getTime() / 60_000) * 60_000);
          void runTick(db, job, tick, instance, logger);
        },
        { name: job.name, noOverlap: true },
      ),
    );
  }
  return {
    async stop() {
      for (const t of tasks) await t.stop();
    },
  };
}

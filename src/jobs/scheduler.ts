import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "../lib/logger.js";
import type { Services } from "../services/index.js";

/** Claims and finishes ticks, once across every instance that shares the store. */
export type Ticks = Services["jobs"];

export interface Job {
  name: string;
  /** Cron expression, or "off". */
  schedule: string;
  /** IANA time zone the schedule is read in (default: the process's). */
  timezone?: string | undefined;
  run(): Promise<string | undefined>;
}

/** Runs a job's tick once across all instances that share the database. */
export async function runTick(
  ticks: Ticks,
  job: Job,
  tick: Date,
  instance: string,
  logger: Logger,
) {
  if (!(await ticks.claimTick(job.name, tick, instance))) {
    logger.debug({ job: job.name, tick }, "tick taken by another instance");
    return false;
  }
  try {
    const detail = await job.run();
    await ticks.finishTick(job.name, tick, true, detail);
    logger.info({ job: job.name, detail }, "job finished");
  } catch (err) {
    logger.error({ err, job: job.name }, "job failed");
    await ticks.finishTick(job.name, tick, false, (err as Error).message);
  }
  return true;
}

export function startScheduler(ticks: Ticks, jobs: Job[], instance: string, logger: Logger) {
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
          void runTick(ticks, job, tick, instance, logger);
        },
        { name: job.name, noOverlap: true, ...(job.timezone ? { timezone: job.timezone } : {}) },
      ),
    );
  }
  return {
    async stop() {
      for (const t of tasks) await t.stop();
    },
  };
}

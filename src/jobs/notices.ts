import type { Services } from "../services/index.js";
import type { Job } from "./scheduler.js";

export const DIGEST_JOB = "weekly-digest";
export const REMINDER_JOB = "daily-reminders";

/** The weekly digest to the alert channel and each manager; `wake` starts delivery at once. */
export function digestJob(
  services: Services,
  opts: { schedule: string; tz: string; channel: string | undefined; wake?: () => void },
): Job {
  return {
    name: DIGEST_JOB,
    schedule: opts.schedule,
    timezone: opts.tz,
    async run() {
      const n = await services.notices.queueDigest({ tz: opts.tz, channel: opts.channel });
      opts.wake?.();
      return `digests queued: ${n}`;
    },
  };
}

/** The daily reminder to each owner of their alerts older than `days` without an outcome. */
export function reminderJob(
  services: Services,
  opts: { schedule: string; tz: string; days: number; wake?: () => void },
): Job {
  return {
    name: REMINDER_JOB,
    schedule: opts.schedule,
    timezone: opts.tz,
    async run() {
      const n = await services.notices.queueReminders({ tz: opts.tz, days: opts.days });
      opts.wake?.();
      return `reminders queued: ${n}`;
    },
  };
}

import { describeEventStore } from "../services/event-store.js";
import type { Services } from "../services/index.js";
import type { Job } from "./scheduler.js";

export const EVENT_STORE_JOB = "event-store";
/**
 * Hourly: cheap when there is nothing to do (a catalog read and a count of the small default
 * partition), and soon enough after a start that the current month has its partition.
 */
export const EVENT_STORE_SCHEDULE = "41 * * * *";

/** Monthly partitions of the events table made ahead, and the retention applied. */
export function eventStoreJob(services: Services): Job {
  return {
    name: EVENT_STORE_JOB,
    schedule: EVENT_STORE_SCHEDULE,
    async run() {
      return describeEventStore(await services.eventStore.maintain());
    },
  };
}

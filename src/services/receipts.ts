import type { Db } from "../db/client.js";
import { deleteReceipt, insertReceipt, sweepReceipts } from "../db/queries/receipts.js";

/** Slack retries a delivery for up to about an hour; receipts older than a day are dropped. */
const RECEIPT_TTL_HOURS = 24;
/** Old receipts are swept on every Nth new event: cheap, and the table stays small. */
const SWEEP_EVERY = 200;

export interface EventReceipts {
  /**
   * Whether an event id was received before; when not, it is recorded now, across every instance
   * (the receipt insert is the lock).
   */
  seen(eventId: string): Promise<boolean>;
  /** Drops an event's receipt, so a retry of an event whose handling failed is handled again. */
  forget(eventId: string): Promise<void>;
}

export function eventReceipts(db: Db): EventReceipts {
  let received = 0;
  return {
    async seen(eventId) {
      if (!(await insertReceipt(db, { eventId }))) return true;
      received += 1;
      if (received % SWEEP_EVERY === 0)
        await sweepReceipts(db, { olderThanHours: RECEIPT_TTL_HOURS });
      return false;
    },
    forget: (eventId) => deleteReceipt(db, { eventId }),
  };
}

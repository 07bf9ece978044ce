import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import { sql } from "drizzle-orm";
import { type Db, execRows } from "../../../db/client.js";
import type { Logger } from "../../../lib/logger.js";

/** Slack retries a delivery for up to about an hour; receipts older than a day are dropped. */
const RECEIPT_TTL_HOURS = 24;
/** Old receipts are swept on every Nth new event: cheap, and the table stays small. */
const SWEEP_EVERY = 200;

/**
 * Events API deliveries are retried when Slack thinks the first was lost; each `event_id` is
 * handled once across every instance (the receipt insert is the lock). A handler that fails
 * removes its receipt so Slack's next retry can try again.
 */
export function dedupeEvents(db: Db, logger: Logger): Middleware<AnyMiddlewareArgs> {
  let seen = 0;
  return async ({ body, next, context }) => {
    const b = body as { type?: string; event_id?: unknown };
    if (b.type !== "event_callback" || typeof b.event_id !== "string") {
      await next();
      return;
    }
    const eventId = b.event_id;
    const inserted = await execRows<{ event_id: string }>(
      db,
      sql`insert into slack_event_receipts (event_id) values (${eventId})
          on conflict (event_id) do nothing returning event_id`,
    );
    if (inserted.length === 0) {
      logger.debug({ eventId, retryNum: context.retryNum }, "duplicate Slack event ignored");
      return;
    }
    seen += 1;
    if (seen % SWEEP_EVERY === 0) {
      await db.execute(
        sql`delete from slack_event_receipts
            where received_at < now() - make_interval(hours => ${RECEIPT_TTL_HOURS})`,
      );
    }
    try {
      await next();
    } catch (err) {
      await db.execute(sql`delete from slack_event_receipts where event_id = ${eventId}`);
      throw err;
    }
  };
}

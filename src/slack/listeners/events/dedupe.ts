import type { AnyMiddlewareArgs, Middleware } from "@slack/bolt";
import type { Logger } from "../../../lib/logger.js";
import type { EventReceipts } from "../../../services/receipts.js";

/**
 * Events API deliveries are retried when Slack thinks the first was lost; each `event_id` is
 * handled once across every instance. A handler that fails removes its receipt so Slack's next
 * retry can try again.
 */
export function dedupeEvents(
  receipts: EventReceipts,
  logger: Logger,
): Middleware<AnyMiddlewareArgs> {
  return async ({ body, next, context }) => {
    const b = body as { type?: string; event_id?: unknown };
    if (b.type !== "event_callback" || typeof b.event_id !== "string") {
      await next();
      return;
    }
    const eventId = b.event_id;
    if (await receipts.seen(eventId)) {
      logger.debug({ eventId, retryNum: context.retryNum }, "duplicate Slack event ignored");
      return;
    }
    try {
      await next();
    } catch (err) {
      await receipts.forget(eventId);
      throw err;
    }
  };
}

import type { Db } from "../../db/client.js";
import type { ClaimedMessage } from "../../db/queries/outbox.js";
import type { Logger } from "../../lib/logger.js";
import { DIGEST_KIND, type Digest, REMINDER_KIND, type Reminder } from "../digest.js";
import { createMessageDispatcher, type MessageDispatcher } from "./messages.js";
import { keyOf, type NotificationSink, type OutgoingMessage } from "./sink.js";

/** A target that is a user id gets a direct message; anything else is a channel id. */
const USER_ID = /^[UW][A-Z0-9]{2,}$/;
/** Reconciliation looks this far before the row's creation, for clock skew with the sink. */
const RECONCILE_SKEW_SECONDS = 120;

/** The outgoing message a digest or reminder row holds (written by queueDigest / queueReminders). */
export function noticeOf(row: ClaimedMessage): OutgoingMessage {
  return row.kind === DIGEST_KIND
    ? { kind: "digest", id: row.id, digest: row.payload.digest as Digest }
    : { kind: "reminder", id: row.id, reminder: row.payload.reminder as Reminder };
}

/**
 * Delivers digests and reminders through a notification sink, once each: a row tried before is
 * first looked for among the sink's recent posts (a crash between posting and recording).
 */
export function createNoticeDispatcher(opts: {
  db: Db;
  sink: NotificationSink;
  instanceId: string;
  logger: Logger;
  pollMs?: number | undefined;
}): MessageDispatcher {
  const { sink } = opts;
  return createMessageDispatcher({
    db: opts.db,
    name: "notices",
    kinds: [DIGEST_KIND, REMINDER_KIND],
    instanceId: opts.instanceId,
    logger: opts.logger,
    ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    async deliver(row) {
      if (!row.target) return null;
      const msg = noticeOf(row);
      const channel = USER_ID.test(row.target) ? await sink.openDm(row.target) : row.target;
      if (row.attempts > 0) {
        const since = new Date((Math.floor(row.createdAt) - RECONCILE_SKEW_SECONDS) * 1000);
        const found = await sink.findPosted(channel, keyOf(msg), since);
        if (found) return found.id;
      }
      return (await sink.post(channel, msg)).id;
    },
  });
}

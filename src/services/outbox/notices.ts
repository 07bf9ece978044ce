import { charts } from "../../charts/lazy.js";
import type { Db } from "../../db/client.js";
import type { ClaimedMessage } from "../../db/queries/outbox.js";
import type { Logger } from "../../lib/logger.js";
import { DIGEST_KIND, type Digest, REMINDER_KIND, type Reminder } from "../digest.js";
import { createMessageDispatcher, type MessageDispatcher } from "./messages.js";
import {
  type DigestMessage,
  keyOf,
  type NotificationSink,
  type OutgoingFile,
  type OutgoingMessage,
  SinkError,
} from "./sink.js";

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

/** The digest's conversion-by-band chart as a PNG; undefined while there are no outcomes. */
export async function digestChart(digest: Digest): Promise<OutgoingFile | undefined> {
  if (digest.bands.length === 0) return undefined;
  const { renderConversionByBand } = await charts();
  return {
    // The digest lists bands high to low; the chart reads left to right, low to high.
    bytes: renderConversionByBand([...digest.bands].reverse(), {
      title: `Conversion by score band, ${digest.date}`,
    }),
    filename: `leadbot-digest-${digest.date}-conversion.png`,
    title: `Conversion by score band, digest of ${digest.date}`,
    altText: "Bar chart of the share of leads won in each score band",
    comment: `Leadbot weekly digest, ${digest.date}: conversion by score band`,
  };
}

/**
 * Delivers digests and reminders through a notification sink, once each: a row tried before is
 * first looked for among the sink's recent posts (a crash between posting and recording).
 * A digest's chart goes up first, as its own file message, and the digest then points at it;
 * when the sink refuses the upload for good, the digest carries its bands as text instead.
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
      const out = msg.kind === "digest" ? await withChart(channel, msg) : msg;
      return (await sink.post(channel, out)).id;
    },
  });

  async function withChart(channel: string, msg: DigestMessage): Promise<DigestMessage> {
    const chart = await digestChart(msg.digest);
    if (!chart) return msg;
    try {
      await sink.upload(channel, chart);
      return { ...msg, chartUploaded: true };
    } catch (err) {
      // Rate limits and outages are retried with the whole row; a refusal is not retried.
      if (!(err instanceof SinkError) || err.kind !== "permanent") throw err;
      opts.logger.warn(
        { id: msg.id, channel, error: err.detail },
        "digest chart was not uploaded; the digest goes out with its bands as text",
      );
      return { ...msg, chartUploaded: false };
    }
  }
}

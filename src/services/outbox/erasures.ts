import type { Db } from "../../db/client.js";
import {
  type ClaimedErasure,
  claimDueErasures,
  markErasureDone,
  rescheduleErasure,
} from "../../db/queries/erasures.js";
import type { Logger } from "../../lib/logger.js";
import { type NotificationSink, SinkError } from "./sink.js";

/** Rows claimed per round trip; each needs one or two sink calls. */
const BATCH_SIZE = 20;
/** Batches per run, so a run ends soon after a large erasure. */
const MAX_BATCHES_PER_RUN = 10;
/** Covers a batch of sink calls of 10 s each with room to spare. */
const LEASE_SECONDS = 300;
/** Permanent failures get a few chances (the bot may be re-invited) before the row fails. */
const MAX_PERMANENT_ATTEMPTS = 3;

export interface ErasureDeliveryOptions {
  db: Db;
  sink: NotificationSink;
  instanceId: string;
  log: Logger;
  /** Seconds to wait before retry number `attempts`. */
  backoff: (attempts: number) => number;
}

/**
 * Rewrites every message about an erased lead as "erased lead", with the alert outbox's
 * guarantees: leased rows, retries with backoff, Slack's Retry-After honoured. A rewrite is
 * idempotent, so a crash between the update and the record only repeats the update.
 */
export async function deliverErasures(
  opts: ErasureDeliveryOptions,
): Promise<{ sent: number; retried: number }> {
  const { db, sink, instanceId, log } = opts;
  const result = { sent: 0, retried: 0 };

  async function rewrite(row: ClaimedErasure): Promise<void> {
    const channel = row.channel ?? (row.dmUser ? await sink.openDm(row.dmUser) : undefined);
    if (!channel) {
      await markErasureDone(db, { id: row.id, status: "failed", note: "no_channel" });
      return;
    }
    await sink.update(
      { channel, id: row.messageTs },
      { kind: "erasure", erasureId: row.id, at: new Date() },
    );
    await markErasureDone(db, { id: row.id, status: "sent", note: null });
  }

  for (let b = 0; b < MAX_BATCHES_PER_RUN; b++) {
    const rows = await claimDueErasures(db, {
      instanceId,
      limit: BATCH_SIZE,
      leaseSeconds: LEASE_SECONDS,
    });
    for (const row of rows) {
      try {
        await rewrite(row);
        result.sent += 1;
      } catch (err) {
        const f =
          err instanceof SinkError
            ? err
            : SinkError.transient((err as Error)?.message ?? String(err));
        if (f.kind === "permanent" && row.attempts >= MAX_PERMANENT_ATTEMPTS) {
          await markErasureDone(db, { id: row.id, status: "failed", note: f.detail });
          log.error(
            { erasureId: row.id, error: f.detail },
            "an erased lead's Slack message could not be rewritten; remove it by hand",
          );
          continue;
        }
        const rateLimited = f.kind === "rate_limited";
        await rescheduleErasure(db, {
          id: row.id,
          delaySeconds: rateLimited
            ? Math.max(1, Math.ceil(f.retryAfterMs / 1000))
            : opts.backoff(row.attempts),
          error: f.detail,
          countAttempt: !rateLimited,
        });
        result.retried += 1;
        log.warn({ erasureId: row.id, error: f.detail }, "erasure rewrite retry");
      }
    }
    if (rows.length < BATCH_SIZE) break;
  }
  return result;
}

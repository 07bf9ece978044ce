import type { Db } from "../../db/client.js";
import {
  type ClaimedMessage,
  claimDueMessages,
  markMessageFailed,
  markMessageSent,
  recordMessageAttempt,
  releaseMessageClaims,
  rescheduleMessage,
} from "../../db/queries/outbox.js";
import type { Logger } from "../../lib/logger.js";
import { backoffSeconds } from "./dispatcher.js";
import { SinkError } from "./sink.js";

/**
 * Delivers `outbox_messages` rows of some kinds through one delivery function, with the alert
 * outbox's rules: SKIP LOCKED claims under a lease, one attempt counted before each call,
 * rate limits waited out, transient failures backed off, permanent ones failed.
 */

/** Rows claimed per round trip. */
const BATCH_SIZE = 20;
const MAX_BATCHES_PER_RUN = 20;
/** Each row needs one call of at most ~10 s; the lease outlives a batch of them. */
const LEASE_SECONDS = 300;
const DEFAULT_POLL_MS = 5_000;

export interface MessageDispatcherOptions {
  db: Db;
  name: string;
  kinds: readonly string[];
  instanceId: string;
  logger: Logger;
  /** Delivers one row; resolves with the sink's id of what it delivered; throws SinkError. */
  deliver(row: ClaimedMessage): Promise<string | null>;
  /** Runs before each run claims rows (webhooks queue new rows from their source tables here). */
  beforeRun?: (() => Promise<void>) | undefined;
  /** Permanent failures a row gets before it fails: 1 for webhooks (a 4xx will not change). */
  maxPermanentAttempts?: number;
  pollMs?: number;
  random?: () => number;
}

export interface MessageRunResult {
  sent: number;
  retried: number;
  failed: number;
}

export interface MessageDispatcher {
  runOnce(): Promise<MessageRunResult>;
  start(): void;
  stop(): Promise<void>;
  wake(): void;
}

export function createMessageDispatcher(opts: MessageDispatcherOptions): MessageDispatcher {
  const { db, logger } = opts;
  const log = logger.child({ component: opts.name });
  const random = opts.random ?? Math.random;
  const maxPermanent = opts.maxPermanentAttempts ?? 3;
  let running: Promise<MessageRunResult> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  async function handleFailure(row: ClaimedMessage, f: SinkError) {
    const attempts = row.attempts + 1;
    if (f.kind === "rate_limited") {
      const wait = Math.max(1, Math.ceil(f.retryAfterMs / 1000));
      await rescheduleMessage(db, row.id, {
        delaySeconds: wait,
        error: f.detail,
        countAttempt: false,
      });
      return "retried" as const;
    }
    if (f.kind === "permanent" && attempts >= maxPermanent) {
      await markMessageFailed(db, row.id, f.detail);
      log.error({ id: row.id, key: row.key, error: f.detail }, "delivery failed for good");
      return "failed" as const;
    }
    const delay = backoffSeconds(attempts, random);
    await rescheduleMessage(db, row.id, {
      delaySeconds: delay,
      error: f.detail,
      countAttempt: true,
    });
    log.warn({ id: row.id, key: row.key, error: f.detail, retryIn: delay }, "delivery retry");
    return "retried" as const;
  }

  async function run(): Promise<MessageRunResult> {
    const result: MessageRunResult = { sent: 0, retried: 0, failed: 0 };
    await opts.beforeRun?.();
    for (let b = 0; b < MAX_BATCHES_PER_RUN; b++) {
      const rows = await claimDueMessages(db, {
        kinds: opts.kinds,
        instanceId: opts.instanceId,
        limit: BATCH_SIZE,
        leaseSeconds: LEASE_SECONDS,
      });
      if (rows.length === 0) break;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as ClaimedMessage;
        await recordMessageAttempt(db, row.id);
        try {
          const ref = await opts.deliver(row);
          await markMessageSent(db, row.id, ref);
          result.sent++;
        } catch (err) {
          const f =
            err instanceof SinkError
              ? err
              : SinkError.transient((err as Error)?.message ?? String(err));
          const outcome = await handleFailure(row, f);
          result[outcome]++;
          if (f.kind !== "permanent") {
            // The receiver is limiting or unwell: leave the rest for a later run.
            await releaseMessageClaims(
              db,
              rows.slice(i + 1).map((r) => r.id),
              2,
            );
            return result;
          }
        }
      }
      if (rows.length < BATCH_SIZE) break;
    }
    return result;
  }

  function runOnce(): Promise<MessageRunResult> {
    if (running) return running.then(() => runOnce());
    running = run().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule(ms: number): void {
    if (!started || stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref?.();
  }

  function tick(): void {
    timer = undefined;
    runOnce()
      .catch((err: unknown) => log.error({ err }, "run failed"))
      .finally(() => {
        if (!timer) schedule(opts.pollMs ?? DEFAULT_POLL_MS);
      });
  }

  return {
    runOnce,
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (running) await running.catch(() => undefined);
    },
    wake() {
      schedule(0);
    },
  };
}

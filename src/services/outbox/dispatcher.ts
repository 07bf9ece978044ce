// Over 400 lines on purpose: claims, leases, backoff and crash reconciliation of every outbox kind
// share one loop and one set of timing constants; split, their interplay would be hidden.

import type { Db } from "../../db/client.js";
import {
  type ClaimedAlert,
  claimDueAlerts,
  markFailed,
  markSent,
  recordAttempt,
  recordChannelPost,
  recordDirectMessage,
  releaseAllClaims,
  releaseClaims,
  reschedule,
} from "../../db/queries/alerts.js";
import {
  burstInfo,
  burstLeadCount,
  burstLeads,
  type ClaimedSummary,
  claimDueSummaries,
  markSummaryFailed,
  markSummarySent,
  recordSummaryAttempt,
  recordSummaryPost,
  releaseAllSummaryClaims,
  releaseSummaryClaims,
  rescheduleSummary,
} from "../../db/queries/bursts.js";
import { queueLateErasure, releaseErasureClaims } from "../../db/queries/erasures.js";
import type { Logger } from "../../lib/logger.js";
import { closeAbandonedBursts } from "../bursts.js";
import { alertLead } from "../scoring.js";
import { deliverErasures } from "./erasures.js";
import {
  keyOf,
  type MessageKey,
  type NotificationSink,
  type OutgoingMessage,
  type PostedRef,
  SinkError,
} from "./sink.js";

/**
 * Delivers the outbox through a sink: claims rows with SKIP LOCKED under a lease, backs off on
 * failures, and reconciles a post whose answer was lost, so each row is delivered once.
 */

/** Rows claimed per round trip: small, so a lease covers the sink calls they need. */
const BATCH_SIZE = 10;
/** Batches per run: a run ends soon even when a large backlog is due. */
const MAX_BATCHES_PER_RUN = 20;
/** Each row needs at most ~5 sink calls of 10 s; the lease outlives them with room to spare. */
const LEASE_SECONDS = 300;
/** Stop starting new rows this long before the lease ends, so no row is posted past it. */
const LEASE_MARGIN_MS = 90_000;
/** First retry after a transient failure; doubles each attempt. */
const BACKOFF_BASE_SECONDS = 2;
/** A sink can be down for an hour: keep retrying, but at least every five minutes. */
const BACKOFF_CAP_SECONDS = 300;
/** Permanent errors get a few chances (someone may invite the bot) before the row fails. */
const MAX_PERMANENT_ATTEMPTS = 3;
/** Reconciliation looks this far before the row's creation, for clock skew with the sink. */
const RECONCILE_SKEW_SECONDS = 120;
const DEFAULT_POLL_MS = 5_000;
/** Slack takes about one message a second per channel; faster bursts earn 429s. */
export const CHANNEL_POST_INTERVAL_MS = 1_000;
/** Leads a channel summary names; "List all" pages through the rest. */
export const SUMMARY_TOP_LEADS = 10;
/** Leads an owner's digest lists: one section line each, well inside a message's limits. */
export const DIGEST_MAX_LEADS = 40;

export interface OutboxDispatcherOptions {
  db: Db;
  kind: "pglite" | "postgres";
  sink: NotificationSink;
  channel: string | undefined;
  instanceId: string;
  logger: Logger;
  pollMs?: number;
  /** Jitter source in [0, 1); tests may fix it. */
  random?: () => number;
  /** Least time from the end of one post to a channel to the start of the next (tests shorten it). */
  paceMs?: number;
}

export interface RunResult {
  sent: number;
  retried: number;
}

export interface OutboxDispatcher {
  runOnce(): Promise<RunResult>;
  start(): void;
  stop(): Promise<void>;
  /** Runs soon: called after a commit that queued alerts. */
  wake(): void;
}

/** Exponential backoff with jitter: half fixed, half random, capped. */
export function backoffSeconds(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(
    BACKOFF_CAP_SECONDS,
    BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempts - 1),
  );
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

/** Whole seconds to wait for a rate limit: at least one, so the row is not claimed at once. */
function retryAfterSeconds(f: SinkError): number {
  return Math.max(1, Math.ceil(f.retryAfterMs / 1000));
}

/** An owner that is not a workspace user id (an email from a CRM, say) gets no direct message. */
const USER_ID = /^[UW][A-Z0-9]{2,}$/;

export function createOutboxDispatcher(opts: OutboxDispatcherOptions): OutboxDispatcher {
  const { db, sink, channel, instanceId, logger } = opts;
  const log = logger.child({ component: "outbox" });
  const random = opts.random ?? Math.random;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const paceMs = opts.paceMs ?? CHANNEL_POST_INTERVAL_MS;
  /** When the last post to each channel ended (monotonic ms): the next waits out the interval. */
  const lastPost = new Map<string, number>();
  let warnedNoChannel = false;
  let running: Promise<RunResult> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  /** Every sink failure becomes a SinkError; one the sink did not sort is taken as transient. */
  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof SinkError) throw err;
      throw SinkError.transient((err as Error)?.message ?? String(err));
    }
  }

  function since(row: { createdAt: number }): Date {
    return new Date((Math.floor(row.createdAt) - RECONCILE_SKEW_SECONDS) * 1000);
  }

  /** Waits until `target` may take another post: paced per channel, not per instance run. */
  async function pace(target: string): Promise<void> {
    const last = lastPost.get(target);
    if (last === undefined) return;
    // A timer may fire a little early: wait again until the whole interval has passed.
    for (let wait = last + paceMs - performance.now(); wait > 0; ) {
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
      wait = last + paceMs - performance.now();
    }
  }

  function posted(target: string): void {
    const now = performance.now();
    if (lastPost.size > 1_000) {
      // Direct-message channels come and go; forget those whose interval is long over.
      for (const [c, t] of lastPost) if (now - t > paceMs) lastPost.delete(c);
    }
    lastPost.set(target, now);
  }

  /** The earlier post when a previous attempt may have landed, else a new one. */
  async function deliverTo(
    target: string,
    row: { createdAt: number },
    msg: OutgoingMessage,
    key: MessageKey,
    previouslyTried: boolean,
  ): Promise<{ ref: PostedRef; found: boolean }> {
    const found = previouslyTried
      ? await call(() => sink.findPosted(target, key, since(row)))
      : undefined;
    if (found) return { ref: found, found: true };
    await pace(target);
    try {
      return { ref: await call(() => sink.post(target, msg)), found: false };
    } finally {
      posted(target);
    }
  }

  /** The lead was erased while its alert was being posted: the new post is rewritten too. */
  async function erasedMeanwhile(row: ClaimedAlert, ref: PostedRef): Promise<void> {
    await queueLateErasure(db, { leadId: row.leadId, channel: ref.channel, messageTs: ref.id });
    log.info({ alertId: row.id }, "lead erased during delivery; its post is queued for rewriting");
  }

  async function deliverOne(row: ClaimedAlert, target: string): Promise<void> {
    const lead = await alertLead(db, row.leadId);
    if (!lead) {
      // The lead was erased after the crossing (the cascade normally removes the row too).
      await markSent(db, row.id, "lead_erased");
      return;
    }
    const msg: OutgoingMessage = {
      kind: "stage_alert",
      alertId: row.id,
      leadId: row.leadId,
      stage: row.stage === "sql" ? "sql" : "mql",
      lead,
    };
    const key = keyOf(msg);
    const previouslyTried = row.attempts > 0;
    await recordAttempt(db, row.id, instanceId);

    if (!row.messageTs) {
      const { ref, found } = await deliverTo(target, row, msg, key, previouslyTried);
      if (found) log.info({ alertId: row.id, ref }, "alert already posted; recorded it");
      if (!(await recordChannelPost(db, row.id, ref.channel, ref.id))) {
        await erasedMeanwhile(row, ref);
        return;
      }
    }

    let note: string | null = null;
    if (row.dmUser && !row.dmTs && USER_ID.test(row.dmUser)) {
      const dmUser = row.dmUser;
      try {
        const dm = await call(() => sink.openDm(dmUser));
        const { ref } = await deliverTo(dm, row, msg, key, previouslyTried);
        if (!(await recordDirectMessage(db, row.id, ref.id))) {
          await erasedMeanwhile(row, ref);
          return;
        }
      } catch (err) {
        // A DM the owner cannot receive must not hold back an alert the channel already has.
        if (!(err instanceof SinkError) || err.kind !== "permanent") throw err;
        note = `dm: ${err.detail}`;
        log.warn({ alertId: row.id, user: dmUser, error: err.detail }, "owner DM failed");
      }
    }
    await markSent(db, row.id, note);
  }

  interface Queue<R extends { id: number; attempts: number }> {
    name: "alert" | "summary";
    claim(p: { instanceId: string; limit: number; leaseSeconds: number }): Promise<R[]>;
    deliver(row: R, target: string): Promise<void>;
    reschedule(
      id: number,
      p: { delaySeconds: number; error: string; countAttempt: boolean },
    ): Promise<void>;
    markFailed(id: number, error: string): Promise<void>;
    release(ids: readonly number[], delaySeconds: number): Promise<void>;
  }

  const alertQueue: Queue<ClaimedAlert> = {
    name: "alert",
    claim: (p) => claimDueAlerts(db, p),
    deliver: (row, target) => deliverOne(row, target),
    reschedule: (id, p) => reschedule(db, id, p),
    markFailed: (id, error) => markFailed(db, id, error),
    release: (ids, delay) => releaseClaims(db, ids, delay),
  };

  const summaryQueue: Queue<ClaimedSummary> = {
    name: "summary",
    claim: (p) => claimDueSummaries(db, p),
    deliver: (row, target) => deliverSummary(row, target),
    reschedule: (id, p) => rescheduleSummary(db, id, p),
    markFailed: (id, error) => markSummaryFailed(db, id, error),
    release: (ids, delay) => releaseSummaryClaims(db, ids, delay),
  };

  /** A burst's channel summary, or one owner's digest of it. */
  async function deliverSummary(row: ClaimedSummary, target: string): Promise<void> {
    const burst = await burstInfo(db, row.burstId);
    if (!burst) {
      await markSummarySent(db, row.id, "burst_gone");
      return;
    }
    let msg: OutgoingMessage;
    let dest: string;
    if (row.audience === "channel") {
      const top = await burstLeads(db, {
        burstId: row.burstId,
        offset: 0,
        limit: SUMMARY_TOP_LEADS,
      });
      msg = { kind: "burst_summary", summaryId: row.id, burst, top };
      dest = target;
    } else {
      const owner = row.audience;
      if (!USER_ID.test(owner)) {
        await markSummarySent(db, row.id, "owner is not a workspace user");
        return;
      }
      const [leads, count] = await Promise.all([
        burstLeads(db, { burstId: row.burstId, owner, offset: 0, limit: DIGEST_MAX_LEADS }),
        burstLeadCount(db, { burstId: row.burstId, owner }),
      ]);
      msg = {
        kind: "burst_digest",
        summaryId: row.id,
        owner,
        burst,
        leads,
        more: Math.max(0, count - leads.length),
      };
      dest = row.channel ?? (await call(() => sink.openDm(owner)));
    }
    const previouslyTried = row.attempts > 0;
    await recordSummaryAttempt(db, row.id, instanceId);
    if (!row.messageTs) {
      const { ref, found } = await deliverTo(dest, row, msg, keyOf(msg), previouslyTried);
      if (found) log.info({ summaryId: row.id, ref }, "summary already posted; recorded it");
      await recordSummaryPost(db, row.id, ref.channel, ref.id);
    }
    await markSummarySent(db, row.id, null);
  }

  async function handleFailure<R extends { id: number; attempts: number }>(
    queue: Queue<R>,
    row: R,
    f: SinkError,
  ): Promise<"retried" | "failed"> {
    const attempts = row.attempts + 1;
    const ids = queue.name === "alert" ? { alertId: row.id } : { summaryId: row.id };
    if (f.kind === "rate_limited") {
      const wait = retryAfterSeconds(f);
      await queue.reschedule(row.id, { delaySeconds: wait, error: f.detail, countAttempt: false });
      log.info({ ...ids, retryAfter: wait }, "sink rate limit; waiting");
      return "retried";
    }
    if (f.kind === "permanent" && attempts >= MAX_PERMANENT_ATTEMPTS) {
      await queue.markFailed(row.id, f.detail);
      log.error(
        { ...ids, error: f.detail, attempts },
        `${queue.name} delivery failed for good; check the channel, the bot's membership and the token`,
      );
      return "failed";
    }
    const delay = backoffSeconds(attempts, random);
    await queue.reschedule(row.id, { delaySeconds: delay, error: f.detail, countAttempt: true });
    log.warn({ ...ids, error: f.detail, attempts, retryIn: delay }, `${queue.name} retry`);
    return "retried";
  }

  async function runBatch<R extends { id: number; attempts: number }>(
    queue: Queue<R>,
    target: string,
    result: RunResult,
  ): Promise<"more" | "done"> {
    const rows = await queue.claim({
      instanceId,
      limit: BATCH_SIZE,
      leaseSeconds: LEASE_SECONDS,
    });
    if (rows.length === 0) return "done";
    const deadline = Date.now() + LEASE_SECONDS * 1000 - LEASE_MARGIN_MS;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as R;
      if (Date.now() > deadline) {
        await queue.release(
          rows.slice(i).map((r) => r.id),
          0,
        );
        return "done";
      }
      try {
        await queue.deliver(row, target);
        result.sent += 1;
      } catch (err) {
        if (!(err instanceof SinkError)) {
          await queue.release(
            rows.slice(i).map((r) => r.id),
            BACKOFF_BASE_SECONDS,
          );
          throw err;
        }
        const outcome = await handleFailure(queue, row, err);
        if (outcome === "retried") result.retried += 1;
        if (err.kind !== "permanent") {
          // The sink is limiting or unwell: leave the rest for the next run instead of piling on.
          const wait = err.kind === "rate_limited" ? retryAfterSeconds(err) : BACKOFF_BASE_SECONDS;
          await queue.release(
            rows.slice(i + 1).map((r) => r.id),
            wait,
          );
          return "done";
        }
      }
    }
    return rows.length < BATCH_SIZE ? "done" : "more";
  }

  let leasesChecked = false;

  async function run(): Promise<RunResult> {
    const result: RunResult = { sent: 0, retried: 0 };
    if (!leasesChecked && opts.kind === "pglite") {
      // A killed process leaves its leases behind; on the embedded database nobody else can hold
      // one, so the rows go back to work now rather than when the lease runs out.
      const released = (await releaseAllClaims(db)) + (await releaseAllSummaryClaims(db));
      if (released > 0) log.info({ released }, "released alert leases left by an earlier run");
      await releaseErasureClaims(db);
    }
    leasesChecked = true;
    // Rewrites of erased leads' messages need no alert channel: they go where the messages are.
    const erased = await deliverErasures({
      db,
      sink,
      instanceId,
      log,
      backoff: (attempts) => backoffSeconds(attempts, random),
    });
    result.sent += erased.sent;
    result.retried += erased.retried;
    if (!channel) {
      if (!warnedNoChannel) {
        warnedNoChannel = true;
        log.warn("LEADBOT_ALERT_CHANNEL is not set: alerts stay queued until it is");
      }
      return result;
    }
    const settled = await closeAbandonedBursts(db);
    if (settled > 0) log.info({ alerts: settled }, "closed model changes that stopped half way");
    // Summaries first: one message stands for many leads, and it is what the channel waits for.
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      if ((await runBatch(summaryQueue, channel, result)) === "done") break;
    }
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      if ((await runBatch(alertQueue, channel, result)) === "done") break;
    }
    if (result.sent > 0 || result.retried > 0) log.debug(result, "alert run");
    return result;
  }

  function runOnce(): Promise<RunResult> {
    if (running) {
      // One run at a time per instance; a caller waits for the current one, then runs its own.
      return running.then(() => runOnce());
    }
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
      .catch((err: unknown) => log.error({ err }, "alert run failed"))
      .finally(() => {
        if (!timer) schedule(pollMs);
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
      // A run already under way may have missed the new rows: runOnce queues one after it.
      schedule(0);
    },
  };
}

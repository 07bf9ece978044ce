import { webApi } from "@slack/bolt";
import type { Db } from "../db/client.js";
import {
  type AlertLead,
  type ClaimedAlert,
  claimDueAlerts,
  loadAlertLead,
  markFailed,
  markSent,
  recordAttempt,
  recordChannelPost,
  recordDirectMessage,
  releaseAllClaims,
  releaseClaims,
  reschedule,
} from "../db/queries/alerts.js";
import type { Logger } from "../lib/logger.js";
import { type AlertView, buildAlertMessage } from "../slack/blocks/alert.js";
import type { WebClient } from "../slack/client.js";
import { ALERT_METADATA_EVENT } from "../slack/ids.js";

/** Rows claimed per round trip: small, so a lease covers the Slack calls they need. */
const BATCH_SIZE = 10;
/** Batches per run: a run ends soon even when a large backlog is due. */
const MAX_BATCHES_PER_RUN = 20;
/** Each row needs at most ~5 Slack calls of 10 s; the lease outlives them with room to spare. */
const LEASE_SECONDS = 300;
/** Stop starting new rows this long before the lease ends, so no row is posted past it. */
const LEASE_MARGIN_MS = 90_000;
/** First retry after a transient failure; doubles each attempt. */
const BACKOFF_BASE_SECONDS = 2;
/** Slack can be down for an hour: keep retrying, but at least every five minutes. */
const BACKOFF_CAP_SECONDS = 300;
/** Permanent errors get a few chances (someone may invite the bot) before the row fails. */
const MAX_PERMANENT_ATTEMPTS = 3;
/** Reconciliation looks this far before the row's creation, for clock skew with Slack. */
const RECONCILE_SKEW_SECONDS = 120;
/** History pages read while reconciling (200 messages each). */
const RECONCILE_MAX_PAGES = 10;
const DEFAULT_POLL_MS = 5_000;

/** Slack errors that no retry fixes without someone changing the setup. */
const PERMANENT_ERRORS = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "no_permission",
  "missing_scope",
  "restricted_action",
  "user_not_found",
  "user_disabled",
  "cannot_dm_bot",
  "invalid_blocks",
  "msg_too_long",
  "invalid_metadata_format",
  "invalid_arguments",
  "team_access_not_granted",
]);

export interface AlertDispatcherOptions {
  db: Db;
  kind: "pglite" | "postgres";
  slack: WebClient;
  channel: string | undefined;
  instanceId: string;
  logger: Logger;
  pollMs?: number;
  /** Jitter source in [0, 1); tests may fix it. */
  random?: () => number;
}

export interface RunResult {
  sent: number;
  retried: number;
}

export interface AlertDispatcher {
  runOnce(): Promise<RunResult>;
  start(): void;
  stop(): Promise<void>;
  /** Runs soon: called after a commit that queued alerts. */
  wake(): void;
}

type Failure =
  | { kind: "rate_limited"; retryAfterSeconds: number; error: string }
  | { kind: "transient"; error: string }
  | { kind: "permanent"; error: string };

/** Sorts a Web API failure into what the dispatcher does about it. */
export function classifySlackError(err: unknown): Failure {
  const e = err as {
    code?: string;
    retryAfter?: number;
    statusCode?: number;
    data?: { error?: string };
    original?: Error;
    message?: string;
  };
  switch (e.code) {
    case webApi.ErrorCode.RateLimitedError:
      return {
        kind: "rate_limited",
        retryAfterSeconds: Math.max(1, e.retryAfter ?? 1),
        error: "ratelimited",
      };
    case webApi.ErrorCode.HTTPError:
      return { kind: "transient", error: `http_${e.statusCode ?? "error"}` };
    case webApi.ErrorCode.RequestError:
      return { kind: "transient", error: `request_failed: ${e.original?.message ?? e.message}` };
    case webApi.ErrorCode.PlatformError: {
      const code = e.data?.error ?? "unknown_error";
      return PERMANENT_ERRORS.has(code)
        ? { kind: "permanent", error: code }
        : { kind: "transient", error: code };
    }
    default:
      return { kind: "transient", error: e.message ?? String(err) };
  }
}

/** Exponential backoff with jitter: half fixed, half random, capped. */
export function backoffSeconds(attempts: number, random: () => number = Math.random): number {
  const ceiling = Math.min(
    BACKOFF_CAP_SECONDS,
    BACKOFF_BASE_SECONDS * 2 ** Math.max(0, attempts - 1),
  );
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

function leadName(l: AlertLead): string {
  const full = [l.firstName, l.lastName].filter(Boolean).join(" ").trim();
  return full || l.email || `Lead #${l.leadId}`;
}

export function alertViewOf(row: Pick<ClaimedAlert, "id" | "stage">, l: AlertLead): AlertView {
  const level = Math.min(4, Math.max(1, Math.round(l.level)));
  return {
    alertId: row.id,
    leadId: l.leadId,
    stage: row.stage === "sql" ? "sql" : "mql",
    name: leadName(l),
    email: l.email,
    title: l.title,
    company: l.company,
    score: l.total,
    fit: l.fit,
    engagement: l.engagement,
    grade: l.grade,
    matrix: `${l.grade}${level}`,
    reasons: [...l.breakdown].sort((a, b) => b.points - a.points).slice(0, 5),
    owner: l.owner,
  };
}

interface MetadataMessage {
  ts?: string;
  metadata?: { event_type?: string; event_payload?: { alert_id?: unknown } };
}

class Stop extends Error {
  constructor(readonly failure: Failure) {
    super(failure.error);
  }
}

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

export function createAlertDispatcher(opts: AlertDispatcherOptions): AlertDispatcher {
  const { db, slack, channel, instanceId, logger } = opts;
  const log = logger.child({ component: "alerts" });
  const random = opts.random ?? Math.random;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  let warnedNoChannel = false;
  let running: Promise<RunResult> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new Stop(classifySlackError(err));
    }
  }

  /** Finds a message this app posted for the alert before a crash or a lost response. */
  async function findPosted(target: string, row: ClaimedAlert): Promise<string | undefined> {
    let cursor: string | undefined;
    for (let page = 0; page < RECONCILE_MAX_PAGES; page++) {
      const res = await call(() =>
        slack.conversations.history({
          channel: target,
          oldest: String(Math.floor(row.createdAt) - RECONCILE_SKEW_SECONDS),
          include_all_metadata: true,
          limit: 200,
          ...(cursor ? { cursor } : {}),
        }),
      );
      const messages = (res.messages ?? []) as MetadataMessage[];
      const hit = messages.find(
        (m) =>
          m.metadata?.event_type === ALERT_METADATA_EVENT &&
          String(m.metadata.event_payload?.alert_id) === String(row.id),
      );
      if (hit?.ts) return hit.ts;
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  async function post(target: string, row: ClaimedAlert, view: AlertView): Promise<string> {
    const message = buildAlertMessage(view);
    const res = await call(() =>
      slack.chat.postMessage({
        channel: target,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        metadata: {
          event_type: ALERT_METADATA_EVENT,
          event_payload: { alert_id: row.id, lead_id: row.leadId, stage: row.stage },
        },
      }),
    );
    if (!res.ts) throw new Stop({ kind: "transient", error: "no_ts_in_response" });
    return res.ts;
  }

  async function deliverOne(row: ClaimedAlert, target: string): Promise<void> {
    const lead = await loadAlertLead(db, row.leadId);
    if (!lead) {
      // The lead was erased after the crossing (the cascade normally removes the row too).
      await markSent(db, row.id, "lead_erased");
      return;
    }
    const view = alertViewOf(row, lead);
    const previouslyTried = row.attempts > 0;
    await recordAttempt(db, row.id, instanceId);

    if (!row.messageTs) {
      const found = previouslyTried ? await findPosted(target, row) : undefined;
      const ts = found ?? (await post(target, row, view));
      if (found) log.info({ alertId: row.id, ts }, "alert already posted; recorded it");
      await recordChannelPost(db, row.id, target, ts);
    }

    let note: string | null = null;
    if (row.dmUser && !row.dmTs && SLACK_USER.test(row.dmUser)) {
      const dmUser = row.dmUser;
      try {
        const opened = await call(() => slack.conversations.open({ users: dmUser }));
        const dm = opened.channel?.id;
        if (!dm) throw new Stop({ kind: "transient", error: "no_channel_in_response" });
        const found = previouslyTried ? await findPosted(dm, row) : undefined;
        const ts = found ?? (await post(dm, row, view));
        await recordDirectMessage(db, row.id, ts);
      } catch (err) {
        // A DM the owner cannot receive must not hold back an alert the channel already has.
        if (!(err instanceof Stop) || err.failure.kind !== "permanent") throw err;
        note = `dm: ${err.failure.error}`;
        log.warn({ alertId: row.id, user: dmUser, error: err.failure.error }, "owner DM failed");
      }
    }
    await markSent(db, row.id, note);
  }

  async function handleFailure(row: ClaimedAlert, f: Failure): Promise<"retried" | "failed"> {
    const attempts = row.attempts + 1;
    if (f.kind === "rate_limited") {
      await reschedule(db, row.id, {
        delaySeconds: f.retryAfterSeconds,
        error: f.error,
        countAttempt: false,
      });
      log.info({ alertId: row.id, retryAfter: f.retryAfterSeconds }, "Slack rate limit; waiting");
      return "retried";
    }
    if (f.kind === "permanent" && attempts >= MAX_PERMANENT_ATTEMPTS) {
      await markFailed(db, row.id, f.error);
      log.error(
        { alertId: row.id, error: f.error, attempts },
        "alert delivery failed for good; check the channel, the bot's membership and the token",
      );
      return "failed";
    }
    const delay = backoffSeconds(attempts, random);
    await reschedule(db, row.id, { delaySeconds: delay, error: f.error, countAttempt: true });
    log.warn({ alertId: row.id, error: f.error, attempts, retryIn: delay }, "alert retry");
    return "retried";
  }

  async function runBatch(target: string, result: RunResult): Promise<"more" | "done"> {
    const rows = await claimDueAlerts(db, {
      instanceId,
      limit: BATCH_SIZE,
      leaseSeconds: LEASE_SECONDS,
    });
    if (rows.length === 0) return "done";
    const deadline = Date.now() + LEASE_SECONDS * 1000 - LEASE_MARGIN_MS;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as ClaimedAlert;
      if (Date.now() > deadline) {
        await releaseClaims(
          db,
          rows.slice(i).map((r) => r.id),
          0,
        );
        return "done";
      }
      try {
        await deliverOne(row, target);
        result.sent += 1;
      } catch (err) {
        if (!(err instanceof Stop)) {
          await releaseClaims(
            db,
            rows.slice(i).map((r) => r.id),
            BACKOFF_BASE_SECONDS,
          );
          throw err;
        }
        const outcome = await handleFailure(row, err.failure);
        if (outcome === "retried") result.retried += 1;
        if (err.failure.kind !== "permanent") {
          // Slack is limiting or unwell: leave the rest for the next run instead of piling on.
          const wait =
            err.failure.kind === "rate_limited"
              ? err.failure.retryAfterSeconds
              : BACKOFF_BASE_SECONDS;
          await releaseClaims(
            db,
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
      const released = await releaseAllClaims(db);
      if (released > 0) log.info({ released }, "released alert leases left by an earlier run");
    }
    leasesChecked = true;
    if (!channel) {
      if (!warnedNoChannel) {
        warnedNoChannel = true;
        log.warn("LEADBOT_ALERT_CHANNEL is not set: alerts stay queued until it is");
      }
      return result;
    }
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      if ((await runBatch(channel, result)) === "done") break;
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

import { rocAuc, scoreBands } from "../core/metrics.js";
import type { DbOrTx } from "../db/client.js";
import { labelledScores, staleAlerts, weekCounts } from "../db/queries/digest.js";
import { queueMessages } from "../db/queries/outbox.js";
import { pendingProposals } from "./proposals.js";

/** The weekly digest and the daily reminders, queued as outbox messages for the Slack sink. */

export const DIGEST_KIND = "digest";
export const REMINDER_KIND = "reminder";
const DAY_MS = 86_400_000;
/** Weeks on the AUC trend: a quarter, enough to see a drift. */
const TREND_WEEKS = 12;
/** Alerts one reminder lists at most: a longer list is a backlog, not a reminder. */
export const MAX_REMINDER_ALERTS = 15;
/** Stale alerts read per run across all owners. */
const STALE_LIMIT = 5_000;

export interface Digest {
  /** The local date (in LEADBOT_TZ) the digest is for, e.g. "2026-11-23". */
  date: string;
  since: string;
  until: string;
  newMqls: number;
  newSqls: number;
  outcomes: { won: number; lost: number; notAFit: number };
  bands: { label: string; leads: number; won: number; rate: number }[];
  auc: { value: number; low: number | null; high: number | null } | null;
  aucTrend: { label: string; auc: number }[];
  pending: { id: number; kind: string; proposedBy: string }[];
}

export interface ReminderAlert {
  alertId: number;
  leadId: number;
  stage: string;
  name: string;
  company: string | null;
  score: number | null;
  /** Whole days since the alert. */
  days: number;
}

export interface Reminder {
  date: string;
  days: number;
  alerts: ReminderAlert[];
  /** Alerts beyond the ones listed. */
  more: number;
}

/** The calendar date of `at` in `tz`, as YYYY-MM-DD. */
export function localDate(at: number, tz: string): string {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(new Date(at));
}

/** The digest of the seven days before `now`. */
export async function buildDigest(db: DbOrTx, p: { now: number; tz: string }): Promise<Digest> {
  const until = new Date(p.now);
  const since = new Date(p.now - 7 * DAY_MS);
  const [counts, labelled, pending] = await Promise.all([
    weekCounts(db, { since, until }),
    labelledScores(db, { until }),
    pendingProposals(db),
  ]);
  const auc = rocAuc(
    labelled.filter((l) => l.won).map((l) => l.score),
    labelled.filter((l) => !l.won).map((l) => l.score),
  );
  // The trend: AUC of every outcome up to the end of each week, oldest week first.
  const aucTrend: Digest["aucTrend"] = [];
  for (let w = TREND_WEEKS - 1; w >= 0; w--) {
    const end = p.now - w * 7 * DAY_MS;
    const upTo = labelled.filter((l) => l.at < end);
    const r = rocAuc(
      upTo.filter((l) => l.won).map((l) => l.score),
      upTo.filter((l) => !l.won).map((l) => l.score),
    );
    if (r) aucTrend.push({ label: localDate(end, p.tz).slice(5), auc: r.value });
  }
  const bands = scoreBands(labelled.map((l) => ({ score: l.score, won: l.won })))
    .sort((a, b) => b.band - a.band)
    .map((b) => ({
      label: `${Math.round(b.minScore)}–${Math.round(b.maxScore)}`,
      leads: b.leads,
      won: b.won,
      rate: b.conversion,
    }));
  return {
    date: localDate(p.now, p.tz),
    since: since.toISOString(),
    until: until.toISOString(),
    newMqls: counts.mqls,
    newSqls: counts.sqls,
    outcomes: { won: counts.won, lost: counts.lost, notAFit: counts.not_a_fit },
    bands,
    auc: auc ? { value: auc.value, low: auc.low, high: auc.high } : null,
    aucTrend,
    pending: pending.map((x) => ({ id: x.id, kind: x.kind, proposedBy: x.proposedBy })),
  };
}

/**
 * Queues the weekly digest for the alert channel and each manager, once per local date and
 * recipient (a second run of the same tick queues nothing). Returns how many were queued.
 */
export async function queueDigest(
  db: DbOrTx,
  p: { now: number; tz: string; channel: string | undefined; managers: readonly string[] },
): Promise<number> {
  const digest = await buildDigest(db, p);
  const targets = [...new Set([...(p.channel ? [p.channel] : []), ...p.managers])];
  return queueMessages(
    db,
    targets.map((target) => ({
      kind: DIGEST_KIND,
      key: `digest:${digest.date}:${target}`,
      target,
      payload: { digest },
    })),
  );
}

/**
 * Queues one reminder per owner listing their alerts older than `days` days that have no outcome
 * yet, once per local date and owner. Returns how many were queued.
 */
export async function queueReminders(
  db: DbOrTx,
  p: { now: number; tz: string; days: number },
): Promise<number> {
  const rows = await staleAlerts(db, {
    before: new Date(p.now - p.days * DAY_MS),
    limit: STALE_LIMIT,
  });
  const byOwner = new Map<string, ReminderAlert[]>();
  for (const r of rows) {
    const list = byOwner.get(r.owner) ?? [];
    list.push({
      alertId: r.alert_id,
      leadId: r.lead_id,
      stage: r.stage,
      name: r.name ?? r.email ?? `Lead #${r.lead_id}`,
      company: r.company,
      score: r.score,
      days: Math.floor((p.now - r.at) / DAY_MS),
    });
    byOwner.set(r.owner, list);
  }
  const date = localDate(p.now, p.tz);
  return queueMessages(
    db,
    [...byOwner].map(([owner, alerts]) => ({
      kind: REMINDER_KIND,
      key: `reminder:${date}:${owner}`,
      target: owner,
      payload: {
        reminder: {
          date,
          days: p.days,
          alerts: alerts.slice(0, MAX_REMINDER_ALERTS),
          more: Math.max(0, alerts.length - MAX_REMINDER_ALERTS),
        } satisfies Reminder,
      },
    })),
  );
}

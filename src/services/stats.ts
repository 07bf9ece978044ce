import { DAY_MS, gradeOf, levelOf } from "../core/engine.js";
import { computeMetrics, type OutcomeExample, type OutcomeMetrics } from "../core/metrics.js";
import type { ScoringModel } from "../core/model.js";
import type { DbOrTx } from "../db/client.js";
import { modelBands, openLeadCounts, outcomeExamples } from "../db/queries/stats.js";

/** The periods people ask for: a month, a quarter, everything. */
export const PERIODS = ["30d", "90d", "all"] as const;
export type Period = (typeof PERIODS)[number];
/** Three months is how long a B2B deal typically takes to close after the first alert. */
export const DEFAULT_PERIOD: Period = "90d";

const PERIOD_DAYS: Record<Exclude<Period, "all">, number> = { "30d": 30, "90d": 90 };

export function isPeriod(s: string): s is Period {
  return (PERIODS as readonly string[]).includes(s);
}

export interface PeriodRange {
  name: Period;
  /** Null for `all`. */
  since: Date | null;
  until: Date;
}

export function periodRange(period: Period, now: number): PeriodRange {
  const until = new Date(now);
  if (period === "all") return { name: period, since: null, until };
  return { name: period, since: new Date(now - PERIOD_DAYS[period] * DAY_MS), until };
}

/** What the metrics say for a period, and the scores behind the won/lost distribution chart. */
export interface StatsReport extends OutcomeMetrics {
  period: PeriodRange;
  /** Scores at the time of the outcome, won and not won (lost or not a fit). */
  scores: { won: number[]; notWon: number[] };
}

type Bands = Pick<ScoringModel, "grades" | "levels">;

/**
 * Gathers, for one period, every lead the metrics count: each lead with an outcome in the period
 * (its score and grade × level from the score history at the time of the outcome, not today's),
 * and the period's other leads counted by how far they got, then computes the metrics. Two
 * set-based statements whatever the number of leads.
 */
export async function gatherStats(
  db: DbOrTx,
  p: { period: Period; now: number },
): Promise<StatsReport> {
  const range = periodRange(p.period, p.now);
  const [rows, open] = await Promise.all([outcomeExamples(db, range), openLeadCounts(db, range)]);
  const versions = [
    ...new Set(rows.flatMap((r) => (r.model_version == null ? [] : [r.model_version]))),
  ];
  const bands = new Map<number, Bands>(
    (await modelBands(db, { versions })).map((m) => [
      Number(m.version),
      { grades: m.grades, levels: m.levels } as Bands,
    ]),
  );
  const examples: OutcomeExample[] = [];
  const scores = { won: [] as number[], notWon: [] as number[] };
  for (const r of rows) {
    const score = Number(r.total ?? 0);
    const band = r.model_version == null ? undefined : bands.get(Number(r.model_version));
    const matrix =
      band && r.fit != null && r.engagement != null
        ? (`${gradeOf(Number(r.fit), band.grades)}${levelOf(Number(r.engagement), band.levels)}` as const)
        : null;
    examples.push({
      score,
      matrix,
      outcome: r.outcome,
      reason: r.reason,
      mqlAt: r.mql_at == null ? null : Number(r.mql_at),
      sqlAt: r.sql_at == null ? null : Number(r.sql_at),
      outcomeAt: Number(r.outcome_at),
    });
    (r.outcome === "won" ? scores.won : scores.notWon).push(score);
  }
  // Leads without an outcome count only in the funnel and the waiting list, where only whether
  // they reached MQL and SQL matters: the epoch stands in for a time nobody reads.
  for (const o of open) {
    for (let i = 0; i < o.n; i++) {
      examples.push({
        score: 0,
        mqlAt: o.reached_mql ? 0 : null,
        sqlAt: o.reached_sql ? 0 : null,
      });
    }
  }
  return { ...computeMetrics(examples), period: range, scores };
}

/**
 * Reports kept in memory for a short while, per period: a page many people open all day (the App
 * Home headline) reads the metrics once a minute at most, not once per open. The first caller
 * computes; callers arriving while it runs share its answer.
 */
export class RecentStats {
  private readonly kept = new Map<Period, { at: number; report: Promise<StatsReport> }>();

  constructor(
    private readonly compute: (period: Period) => Promise<StatsReport>,
    private readonly clock: () => number,
    private readonly maxAgeMs: number,
  ) {}

  get(period: Period): Promise<StatsReport> {
    const now = this.clock();
    const hit = this.kept.get(period);
    if (hit && now - hit.at < this.maxAgeMs) return hit.report;
    const report = this.compute(period);
    this.kept.set(period, { at: now, report });
    // A failure is not kept: the next caller tries again.
    report.catch(() => {
      if (this.kept.get(period)?.report === report) this.kept.delete(period);
    });
    return report;
  }
}

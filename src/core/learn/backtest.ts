import { activityFromEvents, score } from "../engine.js";
import { rocAuc } from "../metrics.js";
import type { ScoreResult, ScoringModel } from "../model.js";
import type { LearnExample } from "./features.js";

/** How one model ranks and qualifies a set of held-out outcomes. */
export interface ModelBacktest {
  auc: number | null;
  aucLow: number | null;
  aucHigh: number | null;
  mqlThreshold: number;
  /** Held-out leads at or above the MQL threshold when their outcome was recorded. */
  qualified: number;
  /** Won among the qualified; null when none qualified. */
  precision: number | null;
  /** Qualified among the won; null when none was won. */
  recall: number | null;
}

export interface Backtest {
  heldOut: { won: number; notWon: number };
  current: ModelBacktest;
  suggested: ModelBacktest;
}

/** Scores a lead as the engine would have at `at`, from the events it had by then. */
export function scoreAt(example: LearnExample, model: ScoringModel): ScoreResult {
  const events = example.events.filter((e) => e.at <= example.at);
  return score(example.lead, activityFromEvents(events, model), model, example.at);
}

/** AUC and precision and recall at the MQL threshold of `model` on labelled examples. */
export function backtestModel(
  examples: readonly LearnExample[],
  model: ScoringModel,
): ModelBacktest {
  const won: number[] = [];
  const notWon: number[] = [];
  let qualified = 0;
  let wonQualified = 0;
  for (const ex of examples) {
    if (!ex.outcome) continue;
    const total = scoreAt(ex, model).total;
    const isWon = ex.outcome === "won";
    (isWon ? won : notWon).push(total);
    if (total >= model.thresholds.mql) {
      qualified++;
      if (isWon) wonQualified++;
    }
  }
  const auc = rocAuc(won, notWon);
  return {
    auc: auc?.value ?? null,
    aucLow: auc?.low ?? null,
    aucHigh: auc?.high ?? null,
    mqlThreshold: model.thresholds.mql,
    qualified,
    precision: qualified === 0 ? null : wonQualified / qualified,
    recall: won.length === 0 ? null : wonQualified / won.length,
  };
}

/**
 * The value that `share` of `values` reach (at or above), rounded to a whole number; above the
 * maximum when the share is zero.
 */
export function valueAtShare(values: readonly number[], share: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => b - a);
  if (share <= 0) return Math.floor(sorted[0] as number) + 1;
  const k = Math.min(sorted.length, Math.max(1, Math.round(share * sorted.length)));
  return Math.round(sorted[k - 1] as number);
}

function shareAtLeast(values: readonly number[], t: number): number {
  if (values.length === 0) return 0;
  let n = 0;
  for (const v of values) if (v >= t) n++;
  return n / values.length;
}

/** Three strictly falling cut points: a tie between quantiles moves the lower one down by one. */
function falling(a: number, b: number, c: number): [number, number, number] {
  const b2 = Math.min(b, a - 1);
  return [a, b2, Math.min(c, b2 - 1)];
}

/**
 * Thresholds, grade and level bands for `suggested` that keep their meaning: each puts the same
 * share of `population` at or above it as the current model's does today.
 */
export function calibrateBands(
  population: readonly LearnExample[],
  current: ScoringModel,
  suggested: ScoringModel,
): Pick<ScoringModel, "thresholds" | "grades" | "levels"> {
  const before = population.map((ex) => scoreAt(ex, current));
  const after = population.map((ex) => scoreAt(ex, suggested));
  const at = (xs: ScoreResult[], k: "total" | "fit" | "engagement") => xs.map((s) => s[k]);
  const match = (k: "total" | "fit" | "engagement", t: number) =>
    valueAtShare(at(after, k), shareAtLeast(at(before, k), t));
  const mql = match("total", current.thresholds.mql);
  const sql = Math.max(match("total", current.thresholds.sql), mql + 1);
  const [A, B, C] = falling(
    match("fit", current.grades.A),
    match("fit", current.grades.B),
    match("fit", current.grades.C),
  );
  const [l1, l2, l3] = falling(
    match("engagement", current.levels["1"]),
    match("engagement", current.levels["2"]),
    match("engagement", current.levels["3"]),
  );
  return {
    thresholds: { mql, sql, hysteresis: current.thresholds.hysteresis },
    grades: { A, B, C },
    levels: { "1": l1, "2": l2, "3": l3 },
  };
}

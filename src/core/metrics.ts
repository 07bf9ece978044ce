import { DAY_MS } from "./engine.js";
import type { OutcomeLabel } from "./impact.js";
import { GRADES, type Grade, LEVELS, type Level } from "./model.js";

/** Two-sided 95% normal quantile, for the AUC confidence interval. */
const Z95 = 1.959963984540054;
/** Score bands are deciles: ten is what sales teams read as "top 10%". */
const BANDS = 10;
/** Reason shown for a lost outcome recorded without one. */
export const NO_REASON = "unspecified";

export type Matrix = `${Grade}${Level}`;

/** One lead as the metrics see it: its score and matrix at the time of its outcome, and its path. */
export interface OutcomeExample {
  /** Score when the outcome was recorded (today's score for a lead without an outcome). */
  score: number;
  /** Grade × level at that same moment, e.g. "A1". */
  matrix?: Matrix | null;
  outcome?: OutcomeLabel | null;
  /** Why it was lost, when it was. */
  reason?: string | null;
  /** Epoch ms of the first time the lead reached MQL (or SQL, which passes MQL). */
  mqlAt?: number | null;
  /** Epoch ms of the first time the lead reached SQL. */
  sqlAt?: number | null;
  /** Epoch ms of the outcome. */
  outcomeAt?: number | null;
}

/** ROC AUC of the score for won against not won (lost or not a fit), with a 95% interval. */
export interface AucResult {
  value: number;
  /** Interval bounds from DeLong's variance, clamped to [0, 1]; null with fewer than 2 of a class. */
  low: number | null;
  high: number | null;
  standardError: number | null;
  method: "delong";
  won: number;
  notWon: number;
}

export interface ScoreBand {
  /** 1 is the top decile of scores at the time of the outcome, 10 the bottom. */
  band: number;
  minScore: number;
  maxScore: number;
  leads: number;
  won: number;
  notWon: number;
  /** won / leads in the band. */
  conversion: number;
}

export interface GradeCell {
  matrix: Matrix;
  grade: Grade;
  level: Level;
  /** Leads in the cell with an outcome. */
  leads: number;
  won: number;
  /** won / leads; null when the cell has no outcome. */
  conversion: number | null;
}

export interface FunnelStep {
  stage: "lead" | "mql" | "sql" | "won";
  count: number;
  /** Share of the previous step that reached this one; null for the first step or an empty one. */
  rate: number | null;
  /** Share of all leads that reached this step; null with no leads. */
  overall: number | null;
}

export interface OutcomeMetrics {
  leads: number;
  outcomes: { won: number; lost: number; notAFit: number };
  auc: AucResult | null;
  bands: ScoreBand[];
  /** Conversion in the top decile over conversion of all leads with an outcome. */
  topDecileLift: number | null;
  grades: GradeCell[];
  funnel: FunnelStep[];
  medianDaysMqlToWon: number | null;
  lostReasons: { reason: string; count: number }[];
  /** Leads that reached MQL and have no outcome yet. */
  awaitingOutcome: number;
}

/** Average 1-based ranks of `values` (ties share the mean of their ranks). */
export function midranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length).fill(0);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && (order[j + 1] as readonly [number, number])[0] === order[i]?.[0])
      j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[(order[k] as readonly [number, number])[1]] = rank;
    i = j + 1;
  }
  return ranks;
}

function sampleVariance(xs: readonly number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
}

/**
 * ROC AUC (the Mann–Whitney probability that a won lead outscores a not-won one, ties counted
 * half) with DeLong's variance, computed from midranks in O(n log n). Null without both classes.
 */
export function rocAuc(won: readonly number[], notWon: readonly number[]): AucResult | null {
  const m = won.length;
  const n = notWon.length;
  if (m === 0 || n === 0) return null;
  const all = midranks([...won, ...notWon]);
  const rPos = midranks(won);
  const rNeg = midranks(notWon);
  // v10[i]: share of not-won leads that won lead i outscores; v01[j]: share of won leads above j.
  const v10 = won.map((_, i) => ((all[i] as number) - (rPos[i] as number)) / n);
  const v01 = notWon.map((_, j) => 1 - ((all[m + j] as number) - (rNeg[j] as number)) / m);
  const value = v10.reduce((s, x) => s + x, 0) / m;
  if (m < 2 || n < 2) {
    return {
      value,
      low: null,
      high: null,
      standardError: null,
      method: "delong",
      won: m,
      notWon: n,
    };
  }
  const se = Math.sqrt(sampleVariance(v10) / m + sampleVariance(v01) / n);
  return {
    value,
    low: Math.max(0, value - Z95 * se),
    high: Math.min(1, value + Z95 * se),
    standardError: se,
    method: "delong",
    won: m,
    notWon: n,
  };
}

/**
 * Splits scored outcomes into deciles by rank, best first. Equal scores always share a band (a
 * band is where the first of them falls), so with ties some bands are larger and some absent.
 */
export function scoreBands(labelled: readonly { score: number; won: boolean }[]): ScoreBand[] {
  const sorted = [...labelled].sort((a, b) => b.score - a.score);
  const bands = new Map<number, ScoreBand>();
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i] as { score: number; won: boolean };
    const band = Math.floor((i * BANDS) / sorted.length) + 1;
    const entry = bands.get(band) ?? {
      band,
      minScore: first.score,
      maxScore: first.score,
      leads: 0,
      won: 0,
      notWon: 0,
      conversion: 0,
    };
    while (i < sorted.length && (sorted[i] as { score: number }).score === first.score) {
      const e = sorted[i] as { score: number; won: boolean };
      entry.leads++;
      if (e.won) entry.won++;
      else entry.notWon++;
      entry.minScore = e.score;
      i++;
    }
    entry.conversion = entry.won / entry.leads;
    bands.set(band, entry);
  }
  return [...bands.values()];
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function ratio(num: number, den: number): number | null {
  return den === 0 ? null : num / den;
}

/**
 * Outcome metrics for one period's leads: how well the score at the time of the outcome ranks
 * won against not won, conversion by score decile and by grade × level, the funnel, the time
 * from MQL to won, and why deals were lost.
 */
export function computeMetrics(examples: readonly OutcomeExample[]): OutcomeMetrics {
  const labelled: { score: number; won: boolean }[] = [];
  const won: number[] = [];
  const notWon: number[] = [];
  const outcomes = { won: 0, lost: 0, notAFit: 0 };
  const cells = new Map<string, { leads: number; won: number }>();
  const reasons = new Map<string, number>();
  const daysToWin: number[] = [];
  let mql = 0;
  let sql = 0;
  let awaitingOutcome = 0;

  for (const e of examples) {
    const reachedMql = e.mqlAt != null || e.sqlAt != null;
    if (reachedMql) mql++;
    if (e.sqlAt != null) sql++;
    if (!e.outcome) {
      if (reachedMql) awaitingOutcome++;
      continue;
    }
    const isWon = e.outcome === "won";
    labelled.push({ score: e.score, won: isWon });
    (isWon ? won : notWon).push(e.score);
    if (e.outcome === "won") outcomes.won++;
    else if (e.outcome === "lost") outcomes.lost++;
    else outcomes.notAFit++;
    if (e.matrix) {
      const cell = cells.get(e.matrix) ?? { leads: 0, won: 0 };
      cell.leads++;
      if (isWon) cell.won++;
      cells.set(e.matrix, cell);
    }
    if (e.outcome === "lost") {
      const reason = e.reason?.trim() || NO_REASON;
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    const firstMql = e.mqlAt ?? e.sqlAt;
    if (isWon && firstMql != null && e.outcomeAt != null && e.outcomeAt >= firstMql) {
      daysToWin.push((e.outcomeAt - firstMql) / DAY_MS);
    }
  }

  const bands = scoreBands(labelled);
  const top = bands.find((b) => b.band === 1);
  const overall = ratio(won.length, labelled.length);
  const grades: GradeCell[] = [];
  for (const grade of GRADES) {
    for (const level of LEVELS) {
      const matrix: Matrix = `${grade}${level}`;
      const cell = cells.get(matrix) ?? { leads: 0, won: 0 };
      grades.push({ matrix, grade, level, ...cell, conversion: ratio(cell.won, cell.leads) });
    }
  }
  const n = examples.length;
  const counts = [n, mql, sql, outcomes.won];
  const funnel = (["lead", "mql", "sql", "won"] as const).map((stage, i) => ({
    stage,
    count: counts[i] as number,
    rate: i === 0 ? null : ratio(counts[i] as number, counts[i - 1] as number),
    overall: ratio(counts[i] as number, n),
  }));
  return {
    leads: n,
    outcomes,
    auc: rocAuc(won, notWon),
    bands,
    topDecileLift: top && overall ? top.conversion / overall : null,
    grades,
    funnel,
    medianDaysMqlToWon: median(daysToWin),
    lostReasons: [...reasons.entries()]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    awaitingOutcome,
  };
}

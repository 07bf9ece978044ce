import type { EngagementRule, FitRule, ScoringModel } from "../model.js";
import { modelSchema } from "../model.js";
import { type Backtest, backtestModel, calibrateBands, scoreAt } from "./backtest.js";
import {
  buildDesign,
  type Candidate,
  candidateRules,
  type LearnExample,
  toRule,
} from "./features.js";
import { stratifiedFolds } from "./folds.js";
import { type Column, crossValidate } from "./logistic.js";

/**
 * Fewest won and not-won outcomes a suggestion needs: with fewer, cross-validation folds hold a
 * handful of wins each and the chosen rules change with every new deal.
 */
export const MIN_WON = 30;
export const MIN_NOT_WON = 30;
/** Rules a suggestion keeps at most: what a manager can read and approve in one sitting. */
export const MAX_RULES = 25;
/** Mostly L1, so few rules survive, with a little L2 so correlated rules share the weight. */
const ALPHA = 0.9;
const FOLDS = 5;
/** Above this many training outcomes, 3 folds: each still holds thousands, at half the cost. */
const LARGE = 20_000;
const LARGE_FOLDS = 3;
/** A quarter of the outcomes is held out for the backtest and never seen by the fit. */
const HOLDOUT_FOLDS = 4;
/** Fewest labelled leads a data-derived rule must match, and the share of them that scales it. */
const MIN_SUPPORT = 10;
const SUPPORT_SHARE = 0.01;
/** Score spread used when the current model gives every lead the same score. */
const FALLBACK_SPREAD = 15;

export interface DataNeed {
  enough: boolean;
  need: { won: number; notWon: number };
  have: { won: number; notWon: number };
  /** One plain sentence: what is there and what is missing. */
  message: string;
}

export interface RuleEvidence {
  ruleId: string;
  label: string;
  group: "fit" | "engagement";
  source: "model" | "data";
  points: number;
  /** Change in log-odds of winning per unit of the rule (one match, or one occurrence). */
  coefficient: number;
  /** The same per standard deviation of the rule's value: comparable across rules. */
  standardizedCoefficient: number;
  /** Training outcomes where the rule applies. */
  support: number;
  conversionWith: number | null;
  conversionWithout: number | null;
}

export interface SuggestOptions {
  seed?: number;
  folds?: number;
  alpha?: number;
  maxRules?: number;
  need?: { won: number; notWon: number };
}

export type Suggestion =
  | { ok: false; code: "not_enough_data"; need: DataNeed }
  | { ok: false; code: "no_signal"; need: DataNeed; message: string }
  | {
      ok: true;
      model: ScoringModel;
      /** Kept rules, strongest first. */
      evidence: RuleEvidence[];
      backtest: Backtest;
      need: DataNeed;
      fit: {
        candidates: number;
        trainingOutcomes: number;
        lambda: number;
        alpha: number;
        folds: number;
        cvDeviance: number;
        /** Points per unit of log-odds. */
        pointsPerLogOdds: number;
      };
    };

/** Whether there are enough won and not-won outcomes to learn from, said plainly. */
export function dataNeed(
  examples: readonly LearnExample[],
  need: { won: number; notWon: number } = { won: MIN_WON, notWon: MIN_NOT_WON },
): DataNeed {
  let won = 0;
  let notWon = 0;
  for (const e of examples) {
    if (e.outcome === "won") won++;
    else if (e.outcome) notWon++;
  }
  const enough = won >= need.won && notWon >= need.notWon;
  const missing = [
    won < need.won ? `${need.won - won} more won` : "",
    notWon < need.notWon ? `${need.notWon - notWon} more lost or not a fit` : "",
  ].filter(Boolean);
  const message = enough
    ? `${won} won and ${notWon} lost or not a fit: enough to suggest a model.`
    : `A suggestion needs ${need.won} won and ${need.notWon} lost or not a fit; there are ${won} and ${notWon}, so ${missing.join(" and ")} are needed.`;
  return { enough, need, have: { won, notWon }, message };
}

/** The labelled examples, split (stratified, seeded) into training and held-out quarters. */
export function holdoutSplit(examples: readonly LearnExample[], seed: number) {
  const labelled = examples.filter((e) => e.outcome);
  const y = Uint8Array.from(labelled, (e) => (e.outcome === "won" ? 1 : 0));
  const split = stratifiedFolds(y, HOLDOUT_FOLDS, seed);
  const train = Uint8Array.from(split, (f) => (f === 0 ? 0 : 1));
  return {
    labelled,
    train,
    trainExamples: labelled.filter((_, i) => train[i] === 1),
    testExamples: labelled.filter((_, i) => train[i] === 0),
  };
}

function sd(xs: readonly number[]): number {
  const m = xs.reduce((s, x) => s + x, 0) / Math.max(xs.length, 1);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / Math.max(xs.length, 1));
}

function columnStats(c: Column, y: Uint8Array, rows: Uint8Array) {
  let n = 0;
  let s = 0;
  let ss = 0;
  let support = 0;
  let wonWith = 0;
  let wonAll = 0;
  for (let i = 0; i < y.length; i++) {
    if (rows[i] === 1) {
      n++;
      wonAll += y[i] as number;
    }
  }
  for (let k = 0; k < c.index.length; k++) {
    const i = c.index[k] as number;
    if (rows[i] === 0) continue;
    const v = c.value ? (c.value[k] as number) : 1;
    s += v;
    ss += v * v;
    support++;
    wonWith += y[i] as number;
  }
  const mean = s / n;
  return {
    sd: Math.sqrt(Math.max(0, ss / n - mean * mean)),
    support,
    conversionWith: support === 0 ? null : wonWith / support,
    conversionWithout: n - support === 0 ? null : (wonAll - wonWith) / (n - support),
  };
}

/**
 * Learns a points model from outcomes: candidate rules from the current model and the data, an
 * elastic-net logistic regression with the penalty chosen by k-fold cross-validation among those
 * keeping at most `maxRules` rules (lowest held-out deviance wins), coefficients scaled to whole
 * points, thresholds and bands recalibrated, and a backtest on held-out outcomes against the
 * current model. Deterministic for a given seed.
 */
export function suggestModel(
  examples: readonly LearnExample[],
  current: ScoringModel,
  options: SuggestOptions = {},
): Suggestion {
  const need = dataNeed(examples, options.need);
  if (!need.enough) return { ok: false, code: "not_enough_data", need };
  const seed = options.seed ?? 1;
  const alpha = options.alpha ?? ALPHA;
  const { trainExamples, testExamples } = holdoutSplit(examples, seed);
  const y = Uint8Array.from(trainExamples, (e) => (e.outcome === "won" ? 1 : 0));
  const folds = options.folds ?? (trainExamples.length > LARGE ? LARGE_FOLDS : FOLDS);
  const train = new Uint8Array(y.length).fill(1);

  const minSupport = Math.max(MIN_SUPPORT, Math.ceil(SUPPORT_SHARE * trainExamples.length));
  const candidates = candidateRules(trainExamples, current, { minSupport });
  const design = buildDesign(trainExamples, candidates);
  // Penalty: the lowest mean held-out deviance among those keeping at most maxRules rules.
  const cv = crossValidate(design, y, {
    alpha,
    folds,
    seed: seed + 1,
    maxNonZero: options.maxRules ?? MAX_RULES,
  });
  const fit = cv.path[cv.chosen];
  const noSignal = (message: string): Suggestion => ({
    ok: false,
    code: "no_signal",
    need,
    message,
  });
  // The rules must beat "every lead alike" (the first penalty) by more than the CV noise.
  const gain = (cv.cvDeviance[0] as number) - (cv.cvDeviance[cv.chosen] as number);
  if (!fit || fit.nonZero === 0 || gain <= (cv.cvStandardError[cv.chosen] as number)) {
    return noSignal("No rule predicts the outcomes better than chance on held-out data.");
  }

  // Points: the linear predictor's spread is scaled to the current model's score spread.
  const currentScores = trainExamples.map((ex) => scoreAt(ex, current).total);
  const eta = new Float64Array(trainExamples.length);
  design.columns.forEach((c, j) => {
    const b = fit.beta[j] as number;
    for (let k = 0; k < c.index.length; k++) {
      const i = c.index[k] as number;
      eta[i] = (eta[i] as number) + b * (c.value ? (c.value[k] as number) : 1);
    }
  });
  const etaSpread = sd([...eta]);
  const spread = sd(currentScores) || FALLBACK_SPREAD;
  const scale = spread / etaSpread;

  const fitRules: FitRule[] = [];
  const engagementRules: EngagementRule[] = [];
  const evidence: RuleEvidence[] = [];
  candidates.forEach((c: Candidate, j) => {
    const b = fit.beta[j] as number;
    const points = Math.max(-1000, Math.min(1000, Math.round(b * scale)));
    if (points === 0) return;
    // A negative rule cannot decay in the schema; the fit learned it decayed, so it is left out.
    if (c.kind === "engagement" && points < 0 && c.halfLifeDays !== undefined) return;
    const rule = toRule(c, points);
    if (c.kind === "fit") fitRules.push(rule as FitRule);
    else engagementRules.push(rule as EngagementRule);
    const stats = columnStats(design.columns[j] as Column, y, train);
    evidence.push({
      ruleId: c.id,
      label: c.label,
      group: c.kind,
      source: c.source,
      points,
      coefficient: b,
      standardizedCoefficient: b * stats.sd,
      support: stats.support,
      conversionWith: stats.conversionWith,
      conversionWithout: stats.conversionWithout,
    });
  });
  if (evidence.length === 0) return noSignal("Every learned rule rounds to 0 points.");
  evidence.sort(
    (a, b) => Math.abs(b.standardizedCoefficient) - Math.abs(a.standardizedCoefficient),
  );

  // Caps at the most a lead can collect, so they never cut what the regression learned.
  const fitCap = fitRules.reduce((s, r) => s + Math.max(0, r.points), 0);
  const engCap = engagementRules.reduce((s, r) => s + Math.max(0, r.points) * r.maxCount, 0);
  const draft: ScoringModel = {
    name: `${current.name} (learned)`.slice(0, 80),
    description: `Learned from ${trainExamples.length} outcomes (${need.have.won} won, ${need.have.notWon} lost or not a fit in all).`,
    fit: { cap: Math.max(1, fitCap), rules: fitRules },
    engagement: { cap: Math.max(1, engCap), rules: engagementRules },
    thresholds: current.thresholds,
    grades: current.grades,
    levels: current.levels,
  };
  // MQL and SQL keep their meaning: the same share of all given leads reaches each as today.
  const model = modelSchema.parse({ ...draft, ...calibrateBands(examples, current, draft) });
  return {
    ok: true,
    model,
    evidence,
    backtest: {
      heldOut: {
        won: testExamples.filter((e) => e.outcome === "won").length,
        notWon: testExamples.filter((e) => e.outcome !== "won").length,
      },
      current: backtestModel(testExamples, current),
      suggested: backtestModel(testExamples, model),
    },
    need,
    fit: {
      candidates: candidates.length,
      trainingOutcomes: trainExamples.length,
      lambda: fit.lambda,
      alpha,
      folds,
      cvDeviance: cv.cvDeviance[cv.chosen] as number,
      pointsPerLogOdds: scale,
    },
  };
}

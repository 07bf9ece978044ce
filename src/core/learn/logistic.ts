/**
 * Elastic-net logistic regression by cyclic coordinate descent on a sparse column design, after
 * Friedman, Hastie and Tibshirani (glmnet, 2010): a weighted least-squares approximation of the
 * log-likelihood per outer step, coordinates updated in place with a soft threshold, penalties on
 * the standardised scale, a path of penalties from the smallest that zeroes every feature
 * downwards with warm starts, and k-fold cross-validation to pick one.
 */

import { stratifiedFolds } from "./folds.js";

/** One feature column: the rows where it is non-zero (ascending) and their values (null: all 1). */
export interface Column {
  index: Uint32Array;
  value: Float64Array | null;
}

export interface Design {
  rows: number;
  columns: Column[];
}

export interface LogisticFit {
  lambda: number;
  intercept: number;
  /** One coefficient per column, on the column's raw scale. */
  beta: Float64Array;
  nonZero: number;
  /** Binomial deviance on the rows the fit was trained on. */
  deviance: number;
}

export interface FitOptions {
  /** Mix of L1 (1) and L2 (0) in the penalty. */
  alpha: number;
  /** Rows that take part, with weight 1; null: every row. */
  rows?: Uint8Array | null;
  tolerance?: number;
  maxOuter?: number;
}

/** Smallest IRLS weight: keeps the working response finite for near-certain rows. */
const MIN_WEIGHT = 1e-5;
/** glmnet's default: coordinate changes below this (scaled by curvature) count as converged. */
const DEFAULT_TOLERANCE = 1e-7;
/** Outer steps stop when no coefficient moves by more than this many inner tolerances. */
const OUTER_FACTOR = 10;
const DEFAULT_MAX_OUTER = 50;
/** Inner passes per outer step; coordinate descent on standardised data needs far fewer. */
const MAX_INNER = 500;

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function colValue(c: Column, k: number): number {
  return c.value ? (c.value[k] as number) : 1;
}

/** Linear predictor for every row. */
export function linearPredictor(
  design: Design,
  intercept: number,
  beta: Float64Array,
): Float64Array {
  const eta = new Float64Array(design.rows).fill(intercept);
  design.columns.forEach((c, j) => {
    const b = beta[j] as number;
    if (b === 0) return;
    for (let k = 0; k < c.index.length; k++) {
      const i = c.index[k] as number;
      eta[i] = (eta[i] as number) + b * colValue(c, k);
    }
  });
  return eta;
}

function deviance(y: Uint8Array, eta: Float64Array, rows: Uint8Array | null): number {
  let d = 0;
  for (let i = 0; i < y.length; i++) {
    if (rows && rows[i] === 0) continue;
    const e = eta[i] as number;
    // log(1 + exp(e)) - y e, computed without overflow.
    const softplus = e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e));
    d += 2 * (softplus - (y[i] as number) * e);
  }
  return d;
}

interface Scale {
  count: number;
  mean: number;
  sd: Float64Array;
}

/** Row count, outcome rate and each column's standard deviation over the rows that take part. */
function scaleOf(design: Design, y: Uint8Array, rows: Uint8Array | null): Scale {
  let count = 0;
  let won = 0;
  for (let i = 0; i < design.rows; i++) {
    if (rows && rows[i] === 0) continue;
    count++;
    won += y[i] as number;
  }
  const sd = new Float64Array(design.columns.length);
  design.columns.forEach((c, j) => {
    let s = 0;
    let ss = 0;
    for (let k = 0; k < c.index.length; k++) {
      if (rows && rows[c.index[k] as number] === 0) continue;
      const v = colValue(c, k);
      s += v;
      ss += v * v;
    }
    const m = s / Math.max(count, 1);
    sd[j] = Math.sqrt(Math.max(0, ss / Math.max(count, 1) - m * m));
  });
  return { count, mean: won / Math.max(count, 1), sd };
}

/** The smallest penalty at which every coefficient is zero. */
export function lambdaMax(
  design: Design,
  y: Uint8Array,
  alpha: number,
  rows: Uint8Array | null = null,
): number {
  const { count, mean, sd } = scaleOf(design, y, rows);
  let max = 0;
  design.columns.forEach((c, j) => {
    const s = sd[j] as number;
    if (s === 0) return;
    let g = 0;
    for (let k = 0; k < c.index.length; k++) {
      const i = c.index[k] as number;
      if (rows && rows[i] === 0) continue;
      g += colValue(c, k) * ((y[i] as number) - mean);
    }
    max = Math.max(max, Math.abs(g) / (count * s * Math.max(alpha, 1e-3)));
  });
  return max;
}

/**
 * Fits one penalty, starting from `start` (a warm start from the previous penalty on a path).
 * Minimises mean deviance / 2 + lambda (alpha |b| + (1 - alpha) b² / 2) on standardised columns.
 */
export function fitLogistic(
  design: Design,
  y: Uint8Array,
  lambda: number,
  options: FitOptions,
  start?: LogisticFit,
): LogisticFit {
  const rows = options.rows ?? null;
  const tol = options.tolerance ?? DEFAULT_TOLERANCE;
  const p = design.columns.length;
  const { count, mean, sd } = scaleOf(design, y, rows);
  const beta = start ? Float64Array.from(start.beta) : new Float64Array(p);
  let b0 = start ? start.intercept : Math.log(Math.max(mean, 1e-9) / Math.max(1 - mean, 1e-9));
  const l1 = new Float64Array(p);
  const l2 = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const s = sd[j] as number;
    l1[j] = lambda * options.alpha * s;
    l2[j] = lambda * (1 - options.alpha) * s * s;
    if (s === 0) beta[j] = 0;
  }
  const n = design.rows;
  const w = new Float64Array(n);
  const r = new Float64Array(n);
  const mu = new Float64Array(p);
  const v = new Float64Array(p);
  let eta = linearPredictor(design, b0, beta);
  const before = new Float64Array(p);

  for (let outer = 0; outer < (options.maxOuter ?? DEFAULT_MAX_OUTER); outer++) {
    // Weighted least-squares approximation at the current fit: weights w, working residual r.
    let sw = 0;
    let swr = 0;
    for (let i = 0; i < n; i++) {
      if (rows && rows[i] === 0) {
        w[i] = 0;
        r[i] = 0;
        continue;
      }
      const pi = sigmoid(eta[i] as number);
      const wi = Math.max(pi * (1 - pi), MIN_WEIGHT);
      w[i] = wi;
      r[i] = ((y[i] as number) - pi) / wi;
      sw += wi;
      swr += (y[i] as number) - pi;
    }
    // Columns are centred on their weighted means, which makes the intercept orthogonal to them.
    for (let j = 0; j < p; j++) {
      const c = design.columns[j] as Column;
      let wx = 0;
      let wxx = 0;
      for (let k = 0; k < c.index.length; k++) {
        const x = colValue(c, k);
        const wi = w[c.index[k] as number] as number;
        wx += wi * x;
        wxx += wi * x * x;
      }
      mu[j] = wx / sw;
      v[j] = (wxx - wx * (mu[j] as number)) / count;
    }
    // Intercept first; afterwards centred updates leave the weighted residual sum at zero.
    before.set(beta);
    const d0 = swr / sw;
    b0 += d0;
    let shift = -d0;
    const cycle = (only: number[] | null): number => {
      let maxChange = 0;
      const m = only ? only.length : p;
      for (let a = 0; a < m; a++) {
        const j = only ? (only[a] as number) : a;
        if ((sd[j] as number) === 0) continue;
        const c = design.columns[j] as Column;
        const vj = v[j] as number;
        let g = 0;
        for (let k = 0; k < c.index.length; k++) {
          const i = c.index[k] as number;
          g += (w[i] as number) * colValue(c, k) * ((r[i] as number) + shift);
        }
        // Weighted sum of the residual is zero, so centring subtracts nothing more from g.
        const z = g / count + vj * (beta[j] as number);
        const t = l1[j] as number;
        const next = Math.abs(z) <= t ? 0 : (z - Math.sign(z) * t) / (vj + (l2[j] as number));
        const delta = next - (beta[j] as number);
        if (delta === 0) continue;
        beta[j] = next;
        for (let k = 0; k < c.index.length; k++) {
          const i = c.index[k] as number;
          r[i] = (r[i] as number) - delta * colValue(c, k);
        }
        shift += delta * (mu[j] as number);
        b0 -= delta * (mu[j] as number);
        maxChange = Math.max(maxChange, vj * delta * delta);
      }
      return maxChange;
    };
    for (let inner = 0; inner < MAX_INNER; inner++) {
      if (cycle(null) < tol) break;
      // Iterate on the active set until it settles, then check every column again.
      const active: number[] = [];
      for (let j = 0; j < p; j++) if (beta[j] !== 0) active.push(j);
      for (let a = 0; a < MAX_INNER && cycle(active) >= tol; a++);
    }
    eta = linearPredictor(design, b0, beta);
    // Converged when this quadratic step moved nothing (scaled by curvature, as glmnet does).
    let moved = (d0 * d0 * sw) / count;
    for (let j = 0; j < p; j++) {
      moved = Math.max(
        moved,
        (v[j] as number) * ((beta[j] as number) - (before[j] as number)) ** 2,
      );
    }
    if (moved < tol * OUTER_FACTOR) break;
  }
  let nonZero = 0;
  for (let j = 0; j < p; j++) if (beta[j] !== 0) nonZero++;
  return { lambda, intercept: b0, beta, nonZero, deviance: deviance(y, eta, rows) };
}

export interface PathOptions extends FitOptions {
  /** Number of penalties from lambdaMax down to lambdaMax * minRatio, evenly on a log scale. */
  steps?: number;
  minRatio?: number;
  /** Stop the path once more than this many coefficients are non-zero. */
  maxNonZero?: number;
  /** Use these penalties instead of computing a sequence. */
  lambdas?: readonly number[];
}

/** Fits a path of decreasing penalties with warm starts. */
export function fitPath(design: Design, y: Uint8Array, options: PathOptions): LogisticFit[] {
  const steps = options.steps ?? 40;
  const lambdas =
    options.lambdas ??
    (() => {
      const top = lambdaMax(design, y, options.alpha, options.rows ?? null);
      const ratio = options.minRatio ?? 1e-3;
      return Array.from({ length: steps }, (_, k) => top * ratio ** (k / (steps - 1)));
    })();
  const fits: LogisticFit[] = [];
  let prev: LogisticFit | undefined;
  for (const lambda of lambdas) {
    const fit = fitLogistic(design, y, lambda, options, prev);
    if (options.maxNonZero !== undefined && fit.nonZero > options.maxNonZero) break;
    fits.push(fit);
    prev = fit;
  }
  return fits;
}

/** The rows of a design (and outcomes) where `keep` is 1, renumbered from 0. */
export function subsetRows(
  design: Design,
  y: Uint8Array,
  keep: Uint8Array,
): { design: Design; y: Uint8Array } {
  const newIndex = new Int32Array(design.rows).fill(-1);
  let n = 0;
  for (let i = 0; i < design.rows; i++) if (keep[i] === 1) newIndex[i] = n++;
  const columns = design.columns.map((c) => {
    const index: number[] = [];
    const value: number[] = [];
    for (let k = 0; k < c.index.length; k++) {
      const to = newIndex[c.index[k] as number] as number;
      if (to === -1) continue;
      index.push(to);
      if (c.value) value.push(c.value[k] as number);
    }
    return { index: Uint32Array.from(index), value: c.value ? Float64Array.from(value) : null };
  });
  const sub = new Uint8Array(n);
  for (let i = 0; i < design.rows; i++)
    if (keep[i] === 1) sub[newIndex[i] as number] = y[i] as number;
  return { design: { rows: n, columns }, y: sub };
}

export interface CrossValidation {
  /** The path on all training rows, up to the last penalty within the non-zero cap. */
  path: LogisticFit[];
  /** Mean held-out deviance per row, and its standard error across folds, per penalty. */
  cvDeviance: number[];
  cvStandardError: number[];
  /** Index into `path` of the chosen penalty: the lowest mean held-out deviance. */
  chosen: number;
}

/**
 * Cross-validates the penalty: the path on all training rows fixes the penalties (stopping where
 * more than `maxNonZero` coefficients survive), each fold refits them on the other folds, and the
 * penalty with the lowest mean held-out deviance wins.
 */
export function crossValidate(
  design: Design,
  y: Uint8Array,
  options: PathOptions & { folds: number; seed: number },
): CrossValidation {
  const base = options.rows ?? null;
  const path = fitPath(design, y, options);
  const lambdas = path.map((f) => f.lambda);
  const fold = stratifiedFolds(y, options.folds, options.seed, base);
  const perFold: number[][] = [];
  for (let f = 0; f < options.folds; f++) {
    const test = Uint8Array.from(fold, (g) => (g === f ? 1 : 0));
    const testCount = test.reduce((s, v) => s + v, 0);
    if (testCount === 0) continue;
    // Each fold trains on its own compact design: masked rows would still cost a pass each.
    const keep = Uint8Array.from(fold, (g) => (g !== -1 && g !== f ? 1 : 0));
    const sub = subsetRows(design, y, keep);
    const fits = fitPath(sub.design, sub.y, {
      ...options,
      rows: null,
      lambdas,
      maxNonZero: undefined,
    });
    perFold.push(
      fits.map(
        (fit) => deviance(y, linearPredictor(design, fit.intercept, fit.beta), test) / testCount,
      ),
    );
  }
  const cvDeviance = lambdas.map(
    (_, l) => perFold.reduce((s, d) => s + (d[l] as number), 0) / perFold.length,
  );
  const cvStandardError = lambdas.map((_, l) => {
    const m = cvDeviance[l] as number;
    const ss = perFold.reduce((s, d) => s + ((d[l] as number) - m) ** 2, 0);
    return Math.sqrt(ss / Math.max(perFold.length - 1, 1) / perFold.length);
  });
  let chosen = 0;
  cvDeviance.forEach((d, l) => {
    if (d < (cvDeviance[chosen] as number)) chosen = l;
  });
  return { path, cvDeviance, cvStandardError, chosen };
}

import { describe, expect, it } from "vitest";
import { DAY_MS } from "../../src/core/engine.js";
import {
  computeMetrics,
  midranks,
  type OutcomeExample,
  rocAuc,
  scoreBands,
} from "../../src/core/metrics.js";

const T0 = Date.UTC(2026, 8, 1);
const day = (d: number) => T0 + d * DAY_MS;

/** Eight outcomes and three open leads; every figure below is counted by hand from this list. */
const EXAMPLES: OutcomeExample[] = [
  { score: 90, matrix: "A1", outcome: "won", mqlAt: day(0), sqlAt: day(2), outcomeAt: day(10) },
  { score: 80, matrix: "A2", outcome: "won", mqlAt: day(1), sqlAt: day(3), outcomeAt: day(21) },
  { score: 60, matrix: "B2", outcome: "won", mqlAt: day(5), outcomeAt: day(35) },
  { score: 70, matrix: "A2", outcome: "lost", reason: "price", mqlAt: day(0), sqlAt: day(1) },
  { score: 40, matrix: "C3", outcome: "lost", reason: "timing", mqlAt: day(4) },
  { score: 20, matrix: "D4", outcome: "lost", reason: " " },
  { score: 60, matrix: "B2", outcome: "not_a_fit" },
  { score: 10, matrix: "D4", outcome: "not_a_fit" },
  { score: 55, matrix: "B3", mqlAt: day(6) },
  { score: 85, matrix: "A1", mqlAt: day(7), sqlAt: day(8) },
  { score: 5, matrix: "D4" },
];

/** AUC and DeLong components straight from their definition, over every won/not-won pair. */
function bruteForceDeLong(won: number[], notWon: number[]) {
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = won.map((x) => notWon.reduce((s, y) => s + psi(x, y), 0) / notWon.length);
  const v01 = notWon.map((y) => won.reduce((s, x) => s + psi(x, y), 0) / won.length);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const svar = (xs: number[]) => xs.reduce((s, x) => s + (x - mean(xs)) ** 2, 0) / (xs.length - 1);
  return {
    auc: mean(v10),
    se: Math.sqrt(svar(v10) / won.length + svar(v01) / notWon.length),
  };
}

describe("rocAuc", () => {
  it("when scores tie across classes, then the tie counts half and DeLong's interval matches the hand figures", () => {
    // Pairs: (3,2)=1 (3,1)=1 (2,2)=.5 (2,1)=1 → 3.5/4; V10=[1,.75], V01=[.75,1], each variance
    // 1/32, so Var = 1/64 + 1/64 and SE = sqrt(1/32) = 0.17678.
    const auc = rocAuc([3, 2], [2, 1]);
    expect(auc?.value).toBeCloseTo(0.875, 12);
    expect(auc?.standardError).toBeCloseTo(Math.sqrt(1 / 32), 12);
    expect(auc?.low).toBeCloseTo(0.875 - 1.959964 * Math.sqrt(1 / 32), 5);
    expect(auc?.high).toBe(1);
  });

  it("when computed on many tied scores, then it agrees with the pairwise definition", () => {
    const won = [5, 5, 4, 3, 3, 3, 1, 0, 5, 2];
    const notWon = [4, 3, 3, 2, 2, 1, 1, 0, 0, 5, 3, 2];
    const expected = bruteForceDeLong(won, notWon);
    const auc = rocAuc(won, notWon);
    expect(auc?.value).toBeCloseTo(expected.auc, 12);
    expect(auc?.standardError).toBeCloseTo(expected.se, 12);
  });

  it("when one class is missing, then there is no AUC; with one of a class, no interval", () => {
    expect(rocAuc([1, 2], [])).toBeNull();
    expect(rocAuc([], [1])).toBeNull();
    const single = rocAuc([3], [1, 2]);
    expect(single?.value).toBe(1);
    expect(single?.low).toBeNull();
  });

  it("when every score is equal, then the AUC is one half", () => {
    expect(rocAuc([7, 7, 7], [7, 7])?.value).toBe(0.5);
  });

  it("when ranks are averaged over ties, then equal values share the mean rank", () => {
    expect(midranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
});

describe("computeMetrics", () => {
  const m = computeMetrics(EXAMPLES);

  it("when outcomes are recorded, then the AUC counts won against lost and not a fit", () => {
    // Won 90 and 80 beat all five; won 60 beats 40, 20, 10, ties 60 and loses to 70: 13.5 / 15.
    expect(m.auc?.value).toBeCloseTo(0.9, 12);
    expect(m.auc?.won).toBe(3);
    expect(m.auc?.notWon).toBe(5);
    expect(m.outcomes).toEqual({ won: 3, lost: 3, notAFit: 2 });
  });

  it("when scores are split into deciles, then ties share a band and the top decile's lift is counted", () => {
    // Ranks 0..7 of 8 fall in band floor(i * 10 / 8) + 1; the two 60s start at rank 3 (band 4).
    expect(m.bands.map((b) => [b.band, b.minScore, b.maxScore, b.leads, b.won])).toEqual([
      [1, 90, 90, 1, 1],
      [2, 80, 80, 1, 1],
      [3, 70, 70, 1, 0],
      [4, 60, 60, 2, 1],
      [7, 40, 40, 1, 0],
      [8, 20, 20, 1, 0],
      [9, 10, 10, 1, 0],
    ]);
    expect(m.topDecileLift).toBeCloseTo(1 / (3 / 8), 12);
  });

  it("when grouped by grade and level, then all sixteen cells are listed with their conversion", () => {
    expect(m.grades).toHaveLength(16);
    const cell = (k: string) => m.grades.find((g) => g.matrix === k);
    expect(cell("A2")).toMatchObject({ leads: 2, won: 1, conversion: 0.5 });
    expect(cell("B2")).toMatchObject({ leads: 2, won: 1, conversion: 0.5 });
    expect(cell("D4")).toMatchObject({ leads: 2, won: 0, conversion: 0 });
    expect(cell("A1")).toMatchObject({ leads: 1, won: 1, conversion: 1 });
    expect(cell("C1")).toMatchObject({ leads: 0, won: 0, conversion: null });
  });

  it("when leads move through stages, then the funnel counts each step and its rate", () => {
    // MQL: five with outcomes plus two open; SQL: 90, 80, 70 and the open 85.
    expect(m.funnel).toEqual([
      { stage: "lead", count: 11, rate: null, overall: 1 },
      { stage: "mql", count: 7, rate: 7 / 11, overall: 7 / 11 },
      { stage: "sql", count: 4, rate: 4 / 7, overall: 4 / 11 },
      { stage: "won", count: 3, rate: 3 / 4, overall: 3 / 11 },
    ]);
    expect(m.awaitingOutcome).toBe(2);
  });

  it("when deals are won and lost, then the median days from MQL to won and the reasons are counted", () => {
    // 10, 20 and 30 days.
    expect(m.medianDaysMqlToWon).toBe(20);
    expect(m.lostReasons).toEqual([
      { reason: "price", count: 1 },
      { reason: "timing", count: 1 },
      { reason: "unspecified", count: 1 },
    ]);
  });

  it("when no lead has an outcome, then the outcome figures are empty rather than wrong", () => {
    const none = computeMetrics([{ score: 10, mqlAt: day(1) }, { score: 3 }]);
    expect(none.auc).toBeNull();
    expect(none.bands).toEqual([]);
    expect(none.topDecileLift).toBeNull();
    expect(none.medianDaysMqlToWon).toBeNull();
    expect(none.funnel[3]).toEqual({ stage: "won", count: 0, rate: null, overall: 0 });
    expect(computeMetrics([]).funnel[0]).toEqual({
      stage: "lead",
      count: 0,
      rate: null,
      overall: null,
    });
  });

  it("when every outcome is won, then there is no AUC and the top decile has no lift", () => {
    const all = computeMetrics([
      { score: 50, outcome: "won" },
      { score: 40, outcome: "won" },
    ]);
    expect(all.auc).toBeNull();
    expect(all.topDecileLift).toBe(1);
  });

  it("when all scores tie, then they form a single band", () => {
    const tied = scoreBands([
      { score: 5, won: true },
      { score: 5, won: false },
      { score: 5, won: false },
    ]);
    expect(tied).toEqual([
      { band: 1, minScore: 5, maxScore: 5, leads: 3, won: 1, notWon: 2, conversion: 1 / 3 },
    ]);
  });
});

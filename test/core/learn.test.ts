import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { scoreAt } from "../../src/core/learn/backtest.js";
import {
  buildDesign,
  candidateRules,
  type LearnExample,
  toRule,
} from "../../src/core/learn/features.js";
import { seededRandom } from "../../src/core/learn/folds.js";
import {
  type Column,
  type Design,
  fitLogistic,
  linearPredictor,
} from "../../src/core/learn/logistic.js";
import { dataNeed, holdoutSplit, suggestModel } from "../../src/core/learn/suggest.js";
import { rocAuc } from "../../src/core/metrics.js";
import { modelSchema } from "../../src/core/model.js";
import { parseModelText } from "../../src/core/model-file.js";
import { syntheticLeads } from "./synthetic-leads.js";

const NOW = Date.UTC(2026, 10, 1);
const defaultModel = parseModelText(
  readFileSync(new URL("../../src/config/default-model.yaml", import.meta.url), "utf8"),
);

/** Dense rows of a sparse design. */
function dense(design: Design): number[][] {
  const rows = Array.from({ length: design.rows }, () => new Array(design.columns.length).fill(0));
  design.columns.forEach((c, j) => {
    c.index.forEach((i, k) => {
      (rows[i] as number[])[j] = c.value ? (c.value[k] as number) : 1;
    });
  });
  return rows;
}

/** Solves A x = b (A dense, row-major, n × n) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array, b: number[]): number[] {
  const n = b.length;
  const m = Float64Array.from(a);
  const rhs = Float64Array.from(b);
  const at = (r: number, c: number) => m[r * n + c] as number;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(at(r, c)) > Math.abs(at(p, c))) p = r;
    for (let k = 0; k < n; k++) {
      const t = at(c, k);
      m[c * n + k] = at(p, k);
      m[p * n + k] = t;
    }
    [rhs[c], rhs[p]] = [rhs[p] as number, rhs[c] as number];
    for (let r = c + 1; r < n; r++) {
      const f = at(r, c) / at(c, c);
      for (let k = c; k < n; k++) m[r * n + k] = at(r, k) - f * at(c, k);
      rhs[r] = (rhs[r] as number) - f * (rhs[c] as number);
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = rhs[r] as number;
    for (let k = r + 1; k < n; k++) s -= at(r, k) * (x[k] as number);
    x[r] = s / at(r, r);
  }
  return x;
}

/**
 * Plain Newton-Raphson (IRLS) for logistic regression with an optional ridge penalty on the
 * standardised scale, written independently of the coordinate-descent fitter: it minimises
 * deviance / (2n) + lambda / 2 * sum (sd_j * b_j)², the same objective at alpha = 0.
 */
function newton(x: number[][], y: number[], lambda = 0): number[] {
  const n = x.length;
  const p = (x[0]?.length ?? 0) + 1;
  const rows = x.map((r) => [1, ...r]);
  const sd = [0];
  for (let j = 1; j < p; j++) {
    const col = rows.map((r) => r[j] as number);
    const m = col.reduce((s, v) => s + v, 0) / n;
    sd.push(Math.sqrt(col.reduce((s, v) => s + (v - m) ** 2, 0) / n));
  }
  let b = new Array<number>(p).fill(0);
  for (let it = 0; it < 100; it++) {
    const grad = new Array<number>(p).fill(0);
    const hess = new Float64Array(p * p);
    rows.forEach((r, i) => {
      const eta = r.reduce((s, v, j) => s + v * (b[j] as number), 0);
      const pr = 1 / (1 + Math.exp(-eta));
      const w = pr * (1 - pr);
      for (let j = 0; j < p; j++) {
        const xj = r[j] as number;
        if (xj === 0) continue;
        grad[j] = (grad[j] as number) + ((y[i] as number) - pr) * xj;
        for (let k = 0; k < p; k++)
          hess[j * p + k] = (hess[j * p + k] as number) + w * xj * (r[k] as number);
      }
    });
    for (let j = 1; j < p; j++) {
      const ridge = n * lambda * (sd[j] as number) ** 2;
      // A constant column has no effect to estimate: pin it at zero, as the fitter does.
      if (sd[j] === 0) {
        for (let k = 0; k < p; k++) hess[j * p + k] = hess[k * p + j] = 0;
        hess[j * p + j] = 1;
        grad[j] = 0;
      } else {
        grad[j] = (grad[j] as number) - ridge * (b[j] as number);
        hess[j * p + j] = (hess[j * p + j] as number) + ridge;
      }
    }
    const step = solve(hess, grad);
    b = b.map((v, j) => v + (step[j] as number));
    if (Math.max(...step.map(Math.abs)) < 1e-12) break;
  }
  return b;
}

/** 400 fixed rows: a binary, a count and a continuous column with known effects, from a seed. */
function smallData(): { design: Design; y: Uint8Array } {
  const rand = seededRandom(42);
  const n = 400;
  const bin: number[] = [];
  const cnt: number[][] = [[], []];
  const cont: number[][] = [[], []];
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const a = rand() < 0.4 ? 1 : 0;
    const c = Math.floor(rand() * 4);
    const z = Math.round(rand() * 100) / 10;
    if (a) bin.push(i);
    if (c) {
      cnt[0]?.push(i);
      cnt[1]?.push(c);
    }
    cont[0]?.push(i);
    cont[1]?.push(z);
    y[i] = rand() < 1 / (1 + Math.exp(-(-1 + 0.9 * a + 0.4 * c - 0.1 * z))) ? 1 : 0;
  }
  const col = (idx: number[], val?: number[]): Column => ({
    index: Uint32Array.from(idx),
    value: val ? Float64Array.from(val) : null,
  });
  return {
    design: {
      rows: n,
      columns: [col(bin), col(cnt[0] ?? [], cnt[1]), col(cont[0] ?? [], cont[1])],
    },
    y,
  };
}

describe("fitLogistic", () => {
  const { design, y } = smallData();
  const x = dense(design);

  it("when unpenalised, then the coefficients match an independent Newton-Raphson fit", () => {
    const expected = newton(x, [...y]);
    const fit = fitLogistic(design, y, 0, { alpha: 1, tolerance: 1e-14 });
    expect(fit.intercept).toBeCloseTo(expected[0] as number, 5);
    for (const [j, b] of fit.beta.entries()) expect(b).toBeCloseTo(expected[j + 1] as number, 5);
  });

  it("when lightly ridge-penalised, then it still matches Newton-Raphson on the same objective", () => {
    const expected = newton(x, [...y], 0.05);
    const fit = fitLogistic(design, y, 0.05, { alpha: 0, tolerance: 1e-14 });
    expect(fit.intercept).toBeCloseTo(expected[0] as number, 5);
    for (const [j, b] of fit.beta.entries()) expect(b).toBeCloseTo(expected[j + 1] as number, 5);
  });

  it("when the lasso penalty is large, then every coefficient is exactly zero", () => {
    const fit = fitLogistic(design, y, 10, { alpha: 1 });
    expect(fit.nonZero).toBe(0);
    const rate = y.reduce((s, v) => s + v, 0) / y.length;
    expect(fit.intercept).toBeCloseTo(Math.log(rate / (1 - rate)), 6);
  });
});

describe("candidateRules", () => {
  const rows: LearnExample[] = Array.from({ length: 200 }, (_, i) => ({
    lead: {
      industry: i % 2 === 0 ? "Software" : "Retail",
      employees: i * 10,
      attributes: {
        plan: ["pro", "free", "team", "rare"][i < 195 ? i % 3 : 3],
        seats: String(i % 50),
        ...(i % 4 === 0 && { region: "emea" }),
      },
    },
    events: i % 5 === 0 ? [{ type: "demo_request", at: NOW - 40 * 86_400_000 }] : [],
    outcome: i % 3 === 0 ? "won" : "lost",
    at: NOW,
  }));
  const candidates = candidateRules(rows, defaultModel, { minSupport: 10 });
  const fitOf = (field: string) =>
    candidates.flatMap((c) =>
      c.kind === "fit" && c.source === "data" && c.when[0]?.field === field ? [c.when[0]] : [],
    );

  it("when text categories pass the minimum count, then each becomes an equals rule and rare ones do not", () => {
    const plans = fitOf("attributes.plan");
    expect(plans).toEqual(
      expect.arrayContaining([
        { field: "attributes.plan", op: "equals", value: "pro" },
        { field: "attributes.plan", op: "equals", value: "free" },
        { field: "attributes.plan", op: "equals", value: "team" },
      ]),
    );
    expect(plans).toHaveLength(3);
    expect(fitOf("attributes.region")).toContainEqual({ field: "attributes.region", op: "absent" });
  });

  it("when a field holds numbers, even as text, then its quantile ranges cover every value exactly once", () => {
    for (const field of ["employees", "attributes.seats"]) {
      const ranges = fitOf(field).flatMap((c) => (c.op === "range" ? [c] : []));
      expect(ranges.length).toBeGreaterThanOrEqual(4);
      for (const row of rows) {
        const raw = field === "employees" ? row.lead.employees : row.lead.attributes?.seats;
        const v = Number(raw);
        const hits = ranges.filter((r) => (r.min ?? -1e18) <= v && v <= (r.max ?? 1e18));
        expect(hits).toHaveLength(1);
      }
    }
  });

  it("when built, then every candidate becomes a schema-valid rule with a unique id", () => {
    const ids = new Set(candidates.map((c) => c.id));
    expect(ids.size).toBe(candidates.length);
    expect(candidates.filter((c) => c.kind === "engagement" && c.source === "data")).toEqual([
      expect.objectContaining({ id: "demo_request_any", maxCount: 1 }),
      expect.objectContaining({ id: "demo_request_each", maxCount: 5 }),
      expect.objectContaining({ id: "demo_request_30d", windowDays: 30 }),
    ]);
    const model = modelSchema.parse({
      ...defaultModel,
      fit: { cap: 50, rules: candidates.flatMap((c) => (c.kind === "fit" ? [toRule(c, 1)] : [])) },
      engagement: {
        cap: 70,
        rules: candidates.flatMap((c) => (c.kind === "engagement" ? [toRule(c, 1)] : [])),
      },
    });
    expect(model.fit.rules.length + model.engagement.rules.length).toBe(candidates.length);
  });
});

describe("dataNeed", () => {
  it("when outcomes are too few, then it says how many are needed and how many there are", () => {
    const few = syntheticLeads({ seed: 1, leads: 60, now: NOW });
    const need = dataNeed(few);
    expect(need.enough).toBe(false);
    expect(need.need).toEqual({ won: 30, notWon: 30 });
    expect(need.have.won + need.have.notWon).toBe(60);
    expect(need.message).toContain(`there are ${need.have.won} and ${need.have.notWon}`);
    const refused = suggestModel(few, defaultModel);
    expect(refused).toMatchObject({ ok: false, code: "not_enough_data", need });
  });
});

describe("suggestModel on leads with known drivers", () => {
  const data = syntheticLeads({ seed: 7, leads: 3000, now: NOW, noiseColumns: 4 });
  const suggestion = suggestModel(data, defaultModel, { seed: 3 });
  if (!suggestion.ok) throw new Error(`expected a suggestion, got ${suggestion.code}`);

  const driverOf = (ruleId: string): string | null => {
    if (/industry|software/.test(ruleId)) return "industry";
    if (/^size_|^employees/.test(ruleId)) return "employees";
    if (/demo_request/.test(ruleId)) return "demo";
    return null;
  };

  it("when fitted, then the result is a valid model whose rules all carry whole points and evidence", () => {
    expect(modelSchema.parse(suggestion.model)).toEqual(suggestion.model);
    const rules = [...suggestion.model.fit.rules, ...suggestion.model.engagement.rules];
    expect(rules.length).toBe(suggestion.evidence.length);
    for (const r of rules) expect(Number.isInteger(r.points) && r.points !== 0).toBe(true);
    for (const e of suggestion.evidence) {
      expect(e.support).toBeGreaterThan(0);
      expect(e.conversionWith).not.toBeNull();
    }
  });

  it("when the engine scores a lead with the suggestion, then the score is the learned points times the rule values", () => {
    const { trainExamples } = holdoutSplit(data, 3);
    const candidates = candidateRules(trainExamples, defaultModel, { minSupport: 23 });
    const points = new Map(suggestion.evidence.map((e) => [e.ruleId, e.points]));
    const kept = candidates.filter((c) => points.has(c.id));
    expect(kept).toHaveLength(points.size);
    const sample = trainExamples.slice(0, 300);
    const design = buildDesign(sample, kept);
    const beta = Float64Array.from(kept, (c) => points.get(c.id) as number);
    const expected = linearPredictor(design, 0, beta);
    sample.forEach((ex, i) => {
      expect(scoreAt(ex, suggestion.model).total).toBeCloseTo(expected[i] as number, 1);
    });
  });

  it("when ranked by standardised effect, then the three true drivers come before any noise", () => {
    const ranked = suggestion.evidence.map((e) => driverOf(e.ruleId));
    const firstNoise = ranked.indexOf(null);
    const drivers = new Set(firstNoise === -1 ? ranked : ranked.slice(0, firstNoise));
    expect(drivers).toEqual(new Set(["industry", "employees", "demo"]));
    expect(suggestion.evidence[0]?.ruleId).toMatch(/demo_request/);
  });

  it("when backtested on held-out outcomes, then it ranks them better than the default model", () => {
    const { current, suggested } = suggestion.backtest;
    expect(suggested.auc).toBeGreaterThan((current.auc as number) + 0.02);
    const heldOut = holdoutSplit(data, 3).testExamples.length;
    expect(suggestion.backtest.heldOut.won + suggestion.backtest.heldOut.notWon).toBe(heldOut);
    expect(suggested.precision).not.toBeNull();
    expect(suggested.recall).not.toBeNull();
  });

  it("when thresholds are recalibrated, then about as many leads reach MQL as under the default model", () => {
    const { current, suggested } = suggestion.backtest;
    expect(Math.abs(suggested.qualified - current.qualified)).toBeLessThan(0.05 * 750);
  });

  it("when run twice with the same seed, then the suggestion is identical", () => {
    expect(suggestModel(data, defaultModel, { seed: 3 })).toEqual(suggestion);
  });

  it("when compared with a lightly penalised standard logistic regression on the same rules, then its held-out AUC is within 0.02", () => {
    const { trainExamples, testExamples } = holdoutSplit(data, 3);
    const candidates = candidateRules(trainExamples, defaultModel, { minSupport: 23 });
    const yTrain = trainExamples.map((e) => (e.outcome === "won" ? 1 : 0));
    const b = newton(dense(buildDesign(trainExamples, candidates)), yTrain, 1e-4);
    const test = buildDesign(testExamples, candidates);
    const eta = linearPredictor(test, b[0] as number, Float64Array.from(b.slice(1)));
    const won = testExamples.flatMap((e, i) => (e.outcome === "won" ? [eta[i] as number] : []));
    const lost = testExamples.flatMap((e, i) => (e.outcome !== "won" ? [eta[i] as number] : []));
    const standard = rocAuc(won, lost)?.value as number;
    // The standard fit must itself have found the drivers, or the comparison says nothing.
    expect(standard).toBeGreaterThan(0.7);
    expect(suggestion.backtest.suggested.auc).toBeGreaterThan(standard - 0.02);
  });
});

describe("suggestModel without signal", () => {
  it("when outcomes are independent of every field and event, then it refuses with no_signal", () => {
    const coin = seededRandom(9);
    const data = syntheticLeads({ seed: 7, leads: 400, now: NOW, noiseColumns: 4 }).map((e) => ({
      ...e,
      outcome: coin() < 0.3 ? ("won" as const) : ("lost" as const),
    }));
    const s = suggestModel(data, defaultModel, { seed: 3 });
    expect(s).toMatchObject({ ok: false, code: "no_signal" });
  });
});

describe("suggestModel with many noise columns", () => {
  it("when most columns are noise, then at most 25 rules survive and the drivers are among them", () => {
    const data: LearnExample[] = syntheticLeads({
      seed: 11,
      leads: 2500,
      now: NOW,
      noiseColumns: 60,
    });
    const s = suggestModel(data, defaultModel, { seed: 5 });
    if (!s.ok) throw new Error(s.code);
    expect(s.fit.candidates).toBeGreaterThan(100);
    const rules = s.model.fit.rules.length + s.model.engagement.rules.length;
    expect(rules).toBeLessThanOrEqual(25);
    expect(
      s.evidence
        .slice(0, 3)
        .map((e) => e.ruleId)
        .join(" "),
    ).toMatch(/demo_request/);
  });
});

import { describe, expect, it } from "vitest";
import {
  describeChange,
  diffModels,
  InvalidChangeError,
  withThresholds,
  withWeights,
} from "../../src/core/diff.js";
import { activityFromEvents, DAY_MS, emptyActivity } from "../../src/core/engine.js";
import { ImpactAccumulator, MIN_OUTCOMES_FOR_BACKTEST } from "../../src/core/impact.js";
import { planRescore } from "../../src/core/plan.js";
import { loadModelFile } from "../../src/services/models.js";

const NOW = Date.UTC(2026, 10, 22, 12);
const model = loadModelFile();

describe("diffModels and describeChange", () => {
  it("when thresholds and points change, then each change reads as a sentence", () => {
    const next = withWeights(withThresholds(model, { mql: 45 }), {
      demo_request: 35,
      careers_page: -15,
    });
    expect(diffModels(model, next).map(describeChange)).toEqual([
      "MQL threshold: 50 → 45",
      "Requested a demo (demo_request): +30 → +35 points",
      "Visited the careers page (job seeker) (careers_page): -10 → -15 points",
    ]);
  });

  it("when nothing changes, then the diff is empty", () => {
    expect(diffModels(model, withThresholds(model, {}))).toEqual([]);
  });
});

describe("withThresholds and withWeights", () => {
  it("when sql would not be above mql, then the error names sql", () => {
    expect(() => withThresholds(model, { sql: 40 })).toThrow(InvalidChangeError);
    try {
      withThresholds(model, { sql: 40 });
    } catch (err) {
      expect((err as InvalidChangeError).field).toBe("sql");
      expect((err as InvalidChangeError).message).toBe(
        "The SQL threshold must be above the MQL threshold (50).",
      );
    }
  });

  it("when a rule id is unknown, then the error names it", () => {
    expect(() => withWeights(model, { nope: 3 })).toThrow('no rule has id "nope"');
  });

  it("when points would be zero, then the error names the rule", () => {
    try {
      withWeights(model, { title_vp: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidChangeError);
      expect((err as InvalidChangeError).field).toBe("title_vp");
    }
  });

  it("when a decaying rule would turn negative, then it is refused", () => {
    expect(() => withWeights(model, { demo_request: -5 })).toThrow(/negative rule cannot decay/);
  });
});

describe("planRescore", () => {
  it("when only a weight changes, then only leads with that rule are targeted", () => {
    expect(planRescore(model, withWeights(model, { demo_request: 40 }))).toEqual({
      kind: "targeted",
      engagementRules: ["demo_request"],
      fitRules: [],
      thresholds: false,
    });
  });

  it("when thresholds change, then leads near them are targeted", () => {
    const plan = planRescore(model, withThresholds(model, { mql: 45 }));
    expect(plan).toMatchObject({ kind: "targeted", thresholds: true });
  });

  it("when nothing scoring-related changes, then nothing is rescored", () => {
    expect(planRescore(model, model)).toEqual({ kind: "none" });
  });
});

describe("ImpactAccumulator", () => {
  const hot = activityFromEvents([{ type: "demo_request", at: NOW - DAY_MS }], model);
  const vp = { title: "VP Sales", industry: "software", employees: 300, country: "US" };

  it("when a threshold drops, then leads between the old and new value move up", () => {
    const acc = new ImpactAccumulator(model, withThresholds(model, { mql: 40 }), NOW);
    // fit 43, no engagement: a lead under the old MQL threshold and over the new one.
    acc.add({ lead: vp, activity: emptyActivity(), stage: "lead" });
    acc.add({ lead: {}, activity: emptyActivity(), stage: "lead" });
    const r = acc.result();
    expect(r.leads).toBe(2);
    expect(r.before).toEqual({ lead: 2, mql: 0, sql: 0 });
    expect(r.after).toEqual({ lead: 1, mql: 1, sql: 0 });
    expect(r.moves).toEqual([{ from: "lead", to: "mql", count: 1 }]);
    expect(r.up).toBe(1);
    expect(r.down).toBe(0);
    expect(r.outcomes).toBeUndefined();
  });

  it("when enough outcomes are recorded, then both models are compared against them", () => {
    const acc = new ImpactAccumulator(model, withThresholds(model, { mql: 90, sql: 95 }), NOW);
    for (let i = 0; i < MIN_OUTCOMES_FOR_BACKTEST; i++) {
      acc.add({ lead: vp, activity: hot, stage: "sql", outcome: i % 2 === 0 ? "won" : "lost" });
    }
    const r = acc.result();
    expect(r.labelled).toEqual({ won: 10, notWon: 10 });
    expect(r.outcomes?.before).toEqual({
      wonQualified: 10,
      notWonQualified: 10,
      winRecall: 1,
      precision: 0.5,
    });
    // Raising both thresholds above the lead's score drops every lead out of the qualified stages.
    expect(r.outcomes?.after.wonQualified).toBe(0);
    expect(r.down).toBe(MIN_OUTCOMES_FOR_BACKTEST);
  });
});

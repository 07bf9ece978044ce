import { describe, expect, it } from "vitest";
import { describeChange, diffModels } from "../../src/core/diff.js";
import { modelSchema, type ScoringModel } from "../../src/core/model.js";
import { modelToYaml, parseModelText, parseModelValue } from "../../src/core/model-file.js";
import { loadModelFile } from "../../src/services/models.js";

const base = loadModelFile();

/** The model with `edit` applied to a deep copy. */
function edited(edit: (m: ScoringModel) => void): unknown {
  const m = structuredClone(base);
  edit(m);
  return m;
}

/** The first issue the schema raises: its dotted path and sentence. */
function refusal(model: unknown): { path: string; message: string } {
  const r = modelSchema.safeParse(model);
  if (r.success) throw new Error("the model was accepted");
  const issue = r.error.issues[0];
  return { path: issue?.path.map(String).join(".") ?? "", message: issue?.message ?? "" };
}

describe("model schema: validation that protects the team", () => {
  it.each([
    [
      "the MQL threshold is 0",
      (m: ScoringModel) => {
        m.thresholds.mql = 0;
      },
      "thresholds.mql",
      /above 0/,
    ],
    [
      "the MQL threshold is negative",
      (m: ScoringModel) => {
        m.thresholds.mql = -5;
      },
      "thresholds.mql",
      /above 0/,
    ],
    [
      "SQL equals MQL",
      (m: ScoringModel) => {
        m.thresholds.sql = 50;
      },
      "thresholds.sql",
      /SQL threshold must be above the MQL threshold \(50\)/,
    ],
    [
      "hysteresis is negative",
      (m: ScoringModel) => {
        m.thresholds.hysteresis = -1;
      },
      "thresholds.hysteresis",
      /cannot be negative/,
    ],
    [
      "hysteresis reaches MQL",
      (m: ScoringModel) => {
        m.thresholds.hysteresis = 50;
      },
      "thresholds.hysteresis",
      /below the MQL threshold \(50\)/,
    ],
    [
      "the fit cap is 0",
      (m: ScoringModel) => {
        m.fit.cap = 0;
      },
      "fit.cap",
      /fit cap must be above 0/,
    ],
    [
      "the engagement cap is negative",
      (m: ScoringModel) => {
        m.engagement.cap = -1;
      },
      "engagement.cap",
      /engagement cap must be above 0/,
    ],
    [
      "a half-life is 0",
      (m: ScoringModel) => {
        (m.engagement.rules[0] as { halfLifeDays?: number }).halfLifeDays = 0;
      },
      "engagement.rules.0.halfLifeDays",
      /half-life must be above 0/,
    ],
    [
      "a window is negative",
      (m: ScoringModel) => {
        (m.engagement.rules[0] as { windowDays?: number }).windowDays = -3;
      },
      "engagement.rules.0.windowDays",
      /window must be above 0/,
    ],
    [
      "an occurrence cap is 0",
      (m: ScoringModel) => {
        (m.engagement.rules[0] as { maxCount: number }).maxCount = 0;
      },
      "engagement.rules.0.maxCount",
      /at least 1/,
    ],
    [
      "grade B is not below A",
      (m: ScoringModel) => {
        m.grades.B = 40;
      },
      "grades.B",
      /Grade B must start below grade A \(35\)/,
    ],
    [
      "grade C equals B",
      (m: ScoringModel) => {
        m.grades.C = 25;
      },
      "grades.C",
      /Grade C must start below grade B \(25\)/,
    ],
    [
      "level 3 is above level 2",
      (m: ScoringModel) => {
        m.levels["3"] = 30;
      },
      "levels.3",
      /Level 3 must start below level 2 \(25\)/,
    ],
    [
      "the inactivity period is 0",
      (m: ScoringModel) => {
        m.engagement.inactivity = { afterDays: 0, points: -5 };
      },
      "engagement.inactivity.afterDays",
      /inactivity period must be above 0/,
    ],
  ])(
    "when %s, then the schema refuses it with a sentence on that field",
    (_, edit, path, message) => {
      const r = refusal(edited(edit));
      expect(r.path).toBe(path);
      expect(r.message).toMatch(message);
    },
  );

  it("when every value is sane, then the default model passes", () => {
    expect(modelSchema.safeParse(base).success).toBe(true);
  });

  it("when a model is given as data, then every issue names its dotted path", () => {
    try {
      parseModelValue(
        edited((m) => {
          m.thresholds.mql = 0;
        }),
      );
      expect.unreachable();
    } catch (err) {
      expect((err as { issues: { path: string }[] }).issues[0]?.path).toBe("thresholds.mql");
    }
  });
});

describe("diffModels: every setting a manager approves", () => {
  it("when rules, conditions, caps, decay, bands and inactivity change, then each reads as a sentence", () => {
    const next = edited((m) => {
      m.fit.cap = 60;
      m.engagement.cap = 80;
      const demo = m.engagement.rules.find((r) => r.id === "demo_request");
      if (!demo) throw new Error("demo_request missing");
      demo.halfLifeDays = 20;
      demo.windowDays = 90;
      demo.maxCount = 3;
      const fit = m.fit.rules[0];
      if (!fit) throw new Error("no fit rule");
      fit.when = [{ field: "title", op: "hasWord", values: ["ceo"] }];
      m.engagement.rules.push({
        id: "integrations_page",
        label: "Visited the integrations page",
        event: "page_view",
        where: [{ field: "url", op: "containsAny", values: ["/integrations"] }],
        points: 6,
        maxCount: 3,
      });
      m.engagement.rules = m.engagement.rules.filter((r) => r.id !== "trial_start");
      m.engagement.inactivity = { afterDays: 45, points: -8 };
      m.grades = { A: 40, B: 25, C: 12 };
      m.levels = { "1": 40, "2": 25, "3": 5 };
      m.thresholds.hysteresis = 3;
    }) as ScoringModel;
    const lines = diffModels(base, next).map(describeChange);
    expect(lines).toEqual(
      expect.arrayContaining([
        "Hysteresis: 5 → 3",
        `${base.fit.rules[0]?.label} (${base.fit.rules[0]?.id}) when: ${lines.find((l) => l.includes(" when: "))?.split(" when: ")[1]}`,
        "Requested a demo (demo_request) cap: 2 occurrences → 3 occurrences",
        "Requested a demo (demo_request) window: none → 90 days",
        "Requested a demo (demo_request) half-life: 30 days → 20 days",
        'New engagement rule Visited the integrations page (integrations_page): +6 points, on page_view, where url contains "/integrations", at most 3',
        "Removed engagement rule Started a trial (trial_start)",
        "Fit cap: 50 → 60",
        "Engagement cap: 70 → 80",
        "Grade A starts at: 35 → 40",
        "Level 3 starts at: 10 → 5",
      ]),
    );
    expect(lines.find((l) => l.includes(" when: "))).toMatch(/→ title has word "ceo"$/);
    expect(lines.some((l) => l.startsWith("Inactivity penalty: "))).toBe(true);
    expect(lines.find((l) => l.startsWith("Inactivity penalty: "))).toMatch(
      /→ -8 points after 45 days without an event$/,
    );
  });
});

describe("modelToYaml", () => {
  it("when a model is written as YAML and read back, then it is the same model", () => {
    expect(parseModelText(modelToYaml(base, "exported\ntwo lines"))).toEqual(base);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activityFromEvents,
  activityReusable,
  applyEvents,
  DAY_MS,
  ENGAGEMENT_CAP_RULE,
  emptyActivity,
  FIT_CAP_RULE,
  INACTIVITY_RULE,
  nextStage,
  rescaledBreakdown,
  score,
  scoreDetailed,
} from "../../src/core/engine.js";
import {
  type ActivityEvent,
  type LeadFacts,
  modelSchema,
  type ScoringModel,
  type ScoringModelInput,
} from "../../src/core/model.js";
import { loadModelFile } from "../../src/services/models.js";

const NOW = Date.UTC(2026, 10, 22, 12);
const daysAgo = (d: number) => NOW - d * DAY_MS;
const defaultModel = loadModelFile();

function model(overrides: Partial<ScoringModelInput> = {}): ScoringModel {
  return modelSchema.parse({
    name: "test",
    fit: {
      cap: 40,
      rules: [
        {
          id: "vp",
          label: "VP",
          points: 20,
          when: [{ field: "title", op: "containsAny", values: ["vp"] }],
        },
        {
          id: "big",
          label: "Big",
          points: 15,
          when: [{ field: "employees", op: "range", min: 500 }],
        },
        {
          id: "saas",
          label: "SaaS",
          points: 10,
          when: [{ field: "industry", op: "oneOf", values: ["software", "saas"] }],
        },
        {
          id: "edu",
          label: "Education",
          points: -10,
          when: [{ field: "industry", op: "equals", value: "education" }],
        },
      ],
    },
    engagement: {
      cap: 50,
      rules: [
        {
          id: "demo",
          label: "Demo",
          event: "demo_request",
          points: 30,
          maxCount: 2,
          halfLifeDays: 30,
        },
        {
          id: "pricing",
          label: "Pricing",
          event: "page_view",
          where: [{ field: "url", op: "containsAny", values: ["/pricing"] }],
          points: 10,
          maxCount: 3,
          halfLifeDays: 14,
        },
        { id: "view", label: "View", event: "page_view", points: 1, maxCount: 10, windowDays: 30 },
        { id: "unsub", label: "Unsubscribed", event: "unsubscribe", points: -20, maxCount: 1 },
      ],
      inactivity: { afterDays: 60, points: -10 },
    },
    thresholds: { mql: 40, sql: 70, hysteresis: 5 },
    grades: { A: 30, B: 20, C: 10 },
    levels: { "1": 40, "2": 25, "3": 10 },
    ...overrides,
  });
}

const vp: LeadFacts = { title: "VP Sales", employees: 1200, industry: "Software" };

describe("score", () => {
  const m = model();

  it("when a lead matches fit rules, then each matching rule is one breakdown line", () => {
    const r = score(
      { title: "VP Marketing", employees: 100, industry: "saas" },
      emptyActivity(),
      m,
      NOW,
    );
    expect(r.fit).toBe(30);
    expect(r.breakdown.map((b) => b.ruleId)).toEqual(["vp", "saas"]);
    expect(r.grade).toBe("A");
    expect(r.level).toBe(4);
    expect(r.matrix).toBe("A4");
  });

  it("when fit points exceed the cap, then a cap line removes the excess and the breakdown sums to the total", () => {
    const r = score(vp, emptyActivity(), m, NOW);
    expect(r.fit).toBe(40);
    const cap = r.breakdown.find((b) => b.ruleId === FIT_CAP_RULE);
    expect(cap?.points).toBe(-5);
    expect(r.breakdown.reduce((s, b) => s + b.points, 0)).toBeCloseTo(r.total, 6);
  });

  it("when a negative fit rule matches, then it subtracts even above the cap", () => {
    const r = score({ ...vp, industry: "education" }, emptyActivity(), m, NOW);
    // vp 20 + big 15 = 35 (under the cap), education -10.
    expect(r.fit).toBe(25);
  });

  it("when an event is one half-life old, then it scores half its points", () => {
    const a = activityFromEvents([{ type: "demo_request", at: daysAgo(30) }], m);
    const r = score({}, a, m, NOW);
    const demo = r.breakdown.find((b) => b.ruleId === "demo");
    expect(demo).toMatchObject({ count: 1, basePoints: 30, points: 15 });
  });

  it("when events match a property filter, then only those count for the filtered rule", () => {
    const a = activityFromEvents(
      [
        { type: "page_view", at: daysAgo(0), properties: { url: "https://acme.com/pricing" } },
        { type: "page_view", at: daysAgo(0), properties: { url: "https://acme.com/blog" } },
      ],
      m,
    );
    const r = score({}, a, m, NOW);
    expect(r.breakdown.find((b) => b.ruleId === "pricing")?.count).toBe(1);
    expect(r.breakdown.find((b) => b.ruleId === "view")?.count).toBe(2);
  });

  it("when a rule has more occurrences than maxCount, then only the most recent count", () => {
    const events = Array.from({ length: 6 }, (_, i) => ({ type: "demo_request", at: daysAgo(i) }));
    const a = activityFromEvents(events, m);
    expect(a.rules.demo).toEqual([daysAgo(0), daysAgo(1)]);
    expect(score({}, a, m, NOW).breakdown.find((b) => b.ruleId === "demo")?.count).toBe(2);
  });

  it("when occurrences fall outside the window, then they no longer count", () => {
    const a = activityFromEvents(
      [
        { type: "page_view", at: daysAgo(10) },
        { type: "page_view", at: daysAgo(45) },
      ],
      m,
    );
    expect(score({}, a, m, NOW).breakdown.find((b) => b.ruleId === "view")?.count).toBe(1);
  });

  it("when engagement exceeds its cap, then a cap line holds it at the cap", () => {
    const a = activityFromEvents(
      [
        { type: "demo_request", at: NOW },
        { type: "demo_request", at: NOW - 1000 },
        { type: "page_view", at: NOW, properties: { url: "/pricing" } },
      ],
      m,
    );
    const r = score({}, a, m, NOW);
    expect(r.engagement).toBe(50);
    expect(r.breakdown.find((b) => b.ruleId === ENGAGEMENT_CAP_RULE)?.points).toBe(-21);
  });

  it("when the last event is older than the inactivity limit, then the penalty applies", () => {
    const a = activityFromEvents([{ type: "page_view", at: daysAgo(61) }], m);
    const r = score({}, a, m, NOW);
    expect(r.breakdown.find((b) => b.ruleId === INACTIVITY_RULE)?.points).toBe(-10);
  });

  it("when a lead never had an event, then it is not penalised for inactivity", () => {
    const r = score({}, emptyActivity(), m, NOW);
    expect(r.breakdown).toEqual([]);
    expect(r.total).toBe(0);
  });

  it("when the total reaches a threshold, then the stage follows it", () => {
    const a = activityFromEvents([{ type: "demo_request", at: NOW }], m);
    const r = score(vp, a, m, NOW);
    expect(r.total).toBe(70);
    expect(r.stage).toBe("sql");
  });
});

describe("nextStage", () => {
  const t = { mql: 40, sql: 70, hysteresis: 5 };

  it("when a score rises, then the stage rises at once", () => {
    expect(nextStage("lead", 40, t)).toBe("mql");
    expect(nextStage("lead", 75, t)).toBe("sql");
  });

  it("when a qualified lead dips inside the hysteresis band, then it keeps its stage", () => {
    expect(nextStage("mql", 36, t)).toBe("mql");
    expect(nextStage("sql", 66, t)).toBe("sql");
  });

  it("when a qualified lead falls below the band, then it drops", () => {
    expect(nextStage("mql", 34.99, t)).toBe("lead");
    expect(nextStage("sql", 64, t)).toBe("mql");
    expect(nextStage("sql", 30, t)).toBe("lead");
  });

  it("when a score hovers around a threshold, then the lead crosses up once", () => {
    let stage = nextStage("lead", 39, t);
    let ups = 0;
    for (const total of [41, 38, 40.5, 37, 42, 39.5]) {
      const next = nextStage(stage, total, t);
      if (next === "mql" && stage === "lead") ups++;
      stage = next;
    }
    expect(ups).toBe(1);
  });
});

describe("activity", () => {
  const m = model();

  it("when no event matches, then applyEvents still records the last event time", () => {
    const a = applyEvents(emptyActivity(), [{ type: "email_open", at: NOW }], m);
    expect(a).toEqual({ rules: {}, lastEventAt: NOW });
  });

  it("when an event matches only negative rules, then it does not reset the inactivity clock", () => {
    const a = activityFromEvents(
      [
        { type: "page_view", at: daysAgo(90) },
        { type: "unsubscribe", at: daysAgo(1) },
      ],
      m,
    );
    expect(a.lastEventAt).toBe(daysAgo(90));
    expect(score({}, a, m, NOW).breakdown.map((b) => b.ruleId)).toEqual(["unsub", INACTIVITY_RULE]);
  });

  it("when nothing changes, then applyEvents returns the same object", () => {
    const a = activityFromEvents([{ type: "demo_request", at: NOW }], m);
    expect(applyEvents(a, [], m)).toBe(a);
  });

  it("when points or windows change, then stored activity stays reusable", () => {
    const to = model({
      thresholds: { mql: 30, sql: 60, hysteresis: 2 },
    });
    to.engagement.rules[0] = {
      ...to.engagement.rules[0],
      points: 50,
    } as (typeof to.engagement.rules)[0];
    expect(activityReusable(m, to).reusable).toBe(true);
  });

  it("when a rule matches other events or is new, then activity must be rebuilt", () => {
    const changed = model();
    changed.engagement.rules[1] = {
      ...(changed.engagement.rules[1] as (typeof changed.engagement.rules)[1]),
      where: [{ field: "url", op: "containsAny", values: ["/plans"] }],
    };
    expect(activityReusable(m, changed)).toEqual({
      reusable: false,
      reason: "rule pricing matches other events",
    });
    const added = model();
    added.engagement.rules.push({
      id: "webinar",
      label: "Webinar",
      event: "webinar_attend",
      points: 5,
      maxCount: 1,
      where: [],
    });
    expect(activityReusable(m, added).reusable).toBe(false);
  });
});

describe("default model", () => {
  it("when a senior buyer at a target account requests a demo, then the lead is an A-grade SQL (a hand-raise)", () => {
    const lead: LeadFacts = {
      email: "jane@acme.com",
      title: "VP of Sales",
      industry: "Software",
      employees: 450,
      country: "US",
    };
    const a = activityFromEvents(
      [
        { type: "demo_request", at: daysAgo(1) },
        { type: "page_view", at: daysAgo(2), properties: { url: "https://acme.io/pricing" } },
      ],
      defaultModel,
    );
    const r = score(lead, a, defaultModel, NOW);
    expect(r.grade).toBe("A");
    expect(r.fit).toBe(43);
    expect(r.stage).toBe("sql");
    expect(r.breakdown.slice(0, 4).map((b) => b.ruleId)).toEqual([
      "title_vp",
      "industry_core",
      "size_mid_market",
      "country_core",
    ]);
  });

  it("when a student from a personal address reads the careers page, then the score is negative", () => {
    const lead: LeadFacts = { email: "sam@gmail.com", title: "Student", industry: "Education" };
    const a = activityFromEvents(
      [{ type: "page_view", at: daysAgo(3), properties: { url: "/careers/engineer" } }],
      defaultModel,
    );
    const r = score(lead, a, defaultModel, NOW);
    expect(r.grade).toBe("D");
    expect(r.total).toBeLessThan(0);
    expect(r.breakdown.map((b) => b.ruleId)).toContain("careers_page");
  });
});

// ---------------------------------------------------------------------------------------------
// Laws, checked on generated leads, events and models.

const EVENT_TYPES = ["demo_request", "page_view", "unsubscribe", "email_open"] as const;
const URLS = ["/pricing", "/blog/x", "/careers", "/product"];

const eventArb: fc.Arbitrary<ActivityEvent> = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  at: fc.integer({ min: NOW - 200 * DAY_MS, max: NOW + DAY_MS }),
  properties: fc.record({ url: fc.constantFrom(...URLS) }),
});

const leadArb: fc.Arbitrary<LeadFacts> = fc.record({
  title: fc.constantFrom("VP Sales", "Engineer", "Director", null),
  employees: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: null }),
  industry: fc.constantFrom("software", "education", "retail", null),
});

/** Models with random points, caps and decay; negative rules carry no window (see the decay law). */
const modelArb: fc.Arbitrary<ScoringModel> = fc
  .record({
    fitCap: fc.integer({ min: 1, max: 60 }),
    engCap: fc.integer({ min: 1, max: 80 }),
    vp: fc.integer({ min: 1, max: 40 }),
    edu: fc.integer({ min: -40, max: -1 }),
    demo: fc.integer({ min: 1, max: 60 }),
    pricing: fc.integer({ min: 1, max: 30 }),
    unsub: fc.integer({ min: -40, max: -1 }),
    half: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }),
    window: fc.option(fc.integer({ min: 1, max: 120 }), { nil: undefined }),
    maxCount: fc.integer({ min: 1, max: 5 }),
  })
  .map((p) =>
    model({
      fit: {
        cap: p.fitCap,
        rules: [
          {
            id: "vp",
            label: "VP",
            points: p.vp,
            when: [{ field: "title", op: "containsAny", values: ["vp"] }],
          },
          {
            id: "edu",
            label: "Edu",
            points: p.edu,
            when: [{ field: "industry", op: "equals", value: "education" }],
          },
        ],
      },
      engagement: {
        cap: p.engCap,
        rules: [
          {
            id: "demo",
            label: "Demo",
            event: "demo_request",
            points: p.demo,
            maxCount: p.maxCount,
            halfLifeDays: p.half,
            windowDays: p.window,
          },
          {
            id: "pricing",
            label: "Pricing",
            event: "page_view",
            where: [{ field: "url", op: "containsAny", values: ["/pricing"] }],
            points: p.pricing,
            maxCount: p.maxCount,
            halfLifeDays: p.half,
          },
          { id: "unsub", label: "Unsub", event: "unsubscribe", points: p.unsub, maxCount: 1 },
        ],
        inactivity: { afterDays: 30, points: -5 },
      },
    }),
  );

describe("laws", () => {
  it("caps hold: fit and engagement never exceed their caps", () => {
    fc.assert(
      fc.property(leadArb, fc.array(eventArb, { maxLength: 30 }), modelArb, (lead, events, m) => {
        const r = score(lead, activityFromEvents(events, m), m, NOW);
        expect(r.fit).toBeLessThanOrEqual(m.fit.cap);
        expect(r.engagement).toBeLessThanOrEqual(m.engagement.cap);
      }),
    );
  });

  it("a change of points alone: lines rescaled from the stored decay are a fresh score's, and the group sums add up to the scores", () => {
    fc.assert(
      fc.property(
        leadArb,
        fc.array(eventArb, { maxLength: 30 }),
        modelArb,
        fc.array(fc.double({ min: 0.05, max: 4, noNaN: true }), { minLength: 12, maxLength: 12 }),
        (lead, events, m, factors) => {
          // Every rule's points scaled, each keeping its sign (what pointChanges accepts).
          let k = 0;
          const scale = (p: number) =>
            Math.round(p * (factors[k++ % factors.length] ?? 1) * 100) / 100 || Math.sign(p);
          const to = modelSchema.parse({
            ...m,
            fit: { ...m.fit, rules: m.fit.rules.map((r) => ({ ...r, points: scale(r.points) })) },
            engagement: {
              ...m.engagement,
              rules: m.engagement.rules.map((r) => ({ ...r, points: scale(r.points) })),
            },
          });
          const a = activityFromEvents(events, m);
          const before = scoreDetailed(lead, a, m, NOW);
          const fresh = scoreDetailed(lead, a, to, NOW);
          expect(rescaledBreakdown(before.result.breakdown, before.decay, to)).toEqual(
            fresh.result.breakdown,
          );
          // Under its own model the stored lines rescale to themselves.
          expect(rescaledBreakdown(before.result.breakdown, before.decay, m)).toEqual(
            before.result.breakdown,
          );
          const [fitPos, fitNeg, engPos, engNeg] = fresh.sums;
          const round2 = (x: number) => Math.round(x * 100) / 100;
          expect(round2(Math.min(fitPos, to.fit.cap) + fitNeg)).toBe(fresh.result.fit);
          expect(round2(Math.min(engPos, to.engagement.cap) + engNeg)).toBe(
            fresh.result.engagement,
          );
        },
      ),
    );
  });

  it("the breakdown explains every point: its lines sum to the total", () => {
    fc.assert(
      fc.property(leadArb, fc.array(eventArb, { maxLength: 30 }), modelArb, (lead, events, m) => {
        const r = score(lead, activityFromEvents(events, m), m, NOW);
        const sum = r.breakdown.reduce((s, b) => s + b.points, 0);
        expect(Math.abs(sum - r.total)).toBeLessThan(1e-6);
      }),
    );
  });

  it("decay never raises a score: the same activity scored later scores no higher", () => {
    fc.assert(
      fc.property(
        leadArb,
        fc.array(eventArb, { maxLength: 30 }),
        modelArb,
        fc.integer({ min: 0, max: 365 * DAY_MS }),
        (lead, events, m, later) => {
          const a = activityFromEvents(events, m);
          expect(score(lead, a, m, NOW + later).total).toBeLessThanOrEqual(
            score(lead, a, m, NOW).total,
          );
        },
      ),
    );
  });

  it("a negative rule never raises a score: one more negative event scores no higher", () => {
    fc.assert(
      fc.property(
        leadArb,
        fc.array(eventArb, { maxLength: 30 }),
        modelArb,
        fc.integer({ min: NOW - 100 * DAY_MS, max: NOW }),
        (lead, events, m, at) => {
          const before = score(lead, activityFromEvents(events, m), m, NOW).total;
          const after = score(
            lead,
            activityFromEvents([...events, { type: "unsubscribe", at }], m),
            m,
            NOW,
          ).total;
          expect(after).toBeLessThanOrEqual(before);
        },
      ),
    );
  });

  it("a negative fit rule never raises a score", () => {
    fc.assert(
      fc.property(leadArb, fc.array(eventArb, { maxLength: 20 }), modelArb, (lead, events, m) => {
        const a = activityFromEvents(events, m);
        const asEdu = score({ ...lead, industry: "education" }, a, m, NOW).total;
        const asOther = score({ ...lead, industry: "retail" }, a, m, NOW).total;
        expect(asEdu).toBeLessThanOrEqual(asOther);
      }),
    );
  });

  it("order of events does not matter, whether given at once or in batches", () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { maxLength: 30 }),
        modelArb,
        fc.integer({ min: 0, max: 30 }),
        (events, m, split) => {
          const once = activityFromEvents(events, m);
          const reversed = activityFromEvents([...events].reverse(), m);
          const batched = applyEvents(
            activityFromEvents(events.slice(split), m),
            events.slice(0, split),
            m,
          );
          expect(reversed).toEqual(once);
          expect(batched).toEqual(once);
        },
      ),
    );
  });

  it("same input, same output", () => {
    fc.assert(
      fc.property(leadArb, fc.array(eventArb, { maxLength: 20 }), modelArb, (lead, events, m) => {
        const a = activityFromEvents(events, m);
        expect(score(lead, a, m, NOW)).toEqual(
          score(structuredClone(lead), structuredClone(a), m, NOW),
        );
      }),
    );
  });

  it("hysteresis: a lead never falls while its total stays at or above the threshold minus the band", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("lead", "mql", "sql" as const),
        fc.double({ min: -50, max: 150, noNaN: true }),
        (prev, total) => {
          const t = { mql: 40, sql: 70, hysteresis: 5 };
          const next = nextStage(prev, total, t);
          // The lowest and highest stage allowed, asserted for every input (no branch left bare).
          const rank = { lead: 0, mql: 1, sql: 2 } as const;
          const floor =
            total >= 70 || (prev === "sql" && total >= 65)
              ? 2
              : total >= 40 || (prev !== "lead" && total >= 35)
                ? 1
                : 0;
          const ceiling = total >= 70 || (prev === "sql" && total >= 65) ? 2 : total >= 35 ? 1 : 0;
          expect(rank[next]).toBeGreaterThanOrEqual(floor);
          expect(rank[next]).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });
});

describe("hasWord", () => {
  const m = loadModelFile();
  const titleRules = (title: string) =>
    score({ title }, emptyActivity(), m, NOW)
      .breakdown.map((b) => b.ruleId)
      .filter((id) => id.startsWith("title_"));

  it.each([
    ["Director of Engineering", ["title_director"]],
    ["Marketing Coordinator", []],
    ["Co-Founder & CEO", ["title_c_level"]],
    ["SVP, Sales", ["title_vp"]],
    ["Vice-President Operations", ["title_vp"]],
    ["Head of Growth", ["title_vp"]],
    ["Product Manager", ["title_manager"]],
    ["MVP Developer", []],
    ["Summer Intern", ["title_student"]],
  ])("when the title is %s, then the title rules are %o", (title, expected) => {
    expect(titleRules(title)).toEqual(expected);
  });

  it("when a word has no letter or digit, then the model is rejected", () => {
    const r = modelSchema.safeParse({
      ...m,
      fit: {
        ...m.fit,
        rules: [
          {
            id: "x",
            label: "x",
            points: 1,
            when: [{ field: "title", op: "hasWord", values: ["--"] }],
          },
        ],
      },
    });
    expect(r.success).toBe(false);
  });
});

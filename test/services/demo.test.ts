import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, execRows } from "../../src/db/client.js";
import {
  DEMO_REPS,
  type DemoLead,
  demoEvents,
  demoLeads,
  generateDemo,
  loadDemoData,
  mulberry32,
} from "../../src/demo/index.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { eventInputSchema, leadInputSchema } from "../../src/services/inputs.js";
import { ensureModel } from "../../src/services/models.js";
import { testDatabases, withDatabase } from "../support/db.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const DAY = 86_400_000;

const take = <T>(it: Iterable<T>, n: number): T[] => {
  const out: T[] = [];
  for (const x of it) {
    if (out.length >= n) break;
    out.push(x);
  }
  return out;
};

describe("demo data generator", () => {
  // One sample for the distribution tests: large enough that shares are stable.
  let sample: DemoLead[];
  beforeAll(() => {
    sample = [...generateDemo({ seed: 7, leads: 20_000, now: NOW })];
  });

  it("when the seed is the same, then the data is the same; another seed gives other data", () => {
    const a = JSON.stringify([...generateDemo({ seed: 42, leads: 300, now: NOW })]);
    const b = JSON.stringify([...generateDemo({ seed: 42, leads: 300, now: NOW })]);
    const c = JSON.stringify([...generateDemo({ seed: 43, leads: 300, now: NOW })]);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it("when the data set is larger, then its first leads are unchanged", () => {
    const small = [...generateDemo({ seed: 42, leads: 50, now: NOW })];
    const large = take(generateDemo({ seed: 42, leads: 5_000, now: NOW }), 50);
    expect(large).toEqual(small);
  });

  it("when generated at another time, then event ids are the same, so a re-run is a duplicate", () => {
    const ids = (now: number) =>
      [...demoEvents({ seed: 42, leads: 200, now })].map((e) => e.id).sort();
    const earlier = ids(NOW);
    const later = ids(NOW + 3 * DAY);
    expect(later).toEqual(earlier);
    expect(new Set(earlier).size).toBe(earlier.length);
  });

  it("when asked for a huge data set, then it is produced lazily, lead by lead", () => {
    const first = take(generateDemo({ seed: 1, leads: 1_000_000_000, now: NOW }), 3);
    expect(first.map((d) => d.index)).toEqual([0, 1, 2]);
  });

  it("when the PRNG is seeded, then it is deterministic and uniform enough", () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it("when leads and events are generated, then every one passes the API's input schemas", () => {
    for (const lead of demoLeads({ seed: 3, leads: 1_000, now: NOW })) {
      const parsed = leadInputSchema.safeParse(lead);
      expect(parsed.success, JSON.stringify(lead)).toBe(true);
    }
    for (const event of demoEvents({ seed: 3, leads: 1_000, now: NOW })) {
      const parsed = eventInputSchema.safeParse(event);
      expect(parsed.success, JSON.stringify(event)).toBe(true);
    }
  });

  it("when leads are generated, then emails are unique and companies hold several people", () => {
    const emails = new Set(sample.map((d) => d.lead.email));
    expect(emails.size).toBe(sample.length);
    const companies = new Set(sample.map((d) => d.lead.company));
    expect(companies.size).toBeLessThan(sample.length * 0.8);
    expect(companies.size).toBeGreaterThan(sample.length * 0.3);
  });

  it("when titles are drawn, then seniority has a believable mix", () => {
    const share = (s: string) =>
      sample.filter((d) => d.truth.seniority === s).length / sample.length;
    expect(share("c_level")).toBeGreaterThan(0.04);
    expect(share("c_level")).toBeLessThan(0.14);
    expect(share("vp")).toBeGreaterThan(0.03);
    expect(share("student")).toBeGreaterThan(0.02);
    expect(share("student")).toBeLessThan(0.12);
    // Individual contributors are the largest group, as in any company.
    expect(share("ic")).toBeGreaterThan(share("manager"));
    expect(share("manager")).toBeGreaterThan(share("vp"));
  });

  it("when companies are drawn, then small firms outnumber large ones and revenue grows with size", () => {
    const employees = sample.map((d) => d.lead.employees).sort((a, b) => a - b);
    const median = employees[Math.floor(employees.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(20);
    expect(median).toBeLessThan(1_000);
    expect(employees.filter((e) => e > 5_000).length).toBeLessThan(employees.length * 0.15);
    const revenuePerHead = (min: number, max: number) => {
      const rows = sample.filter(
        (d) => d.lead.annualRevenue !== null && d.lead.employees >= min && d.lead.employees <= max,
      );
      return rows.reduce((s, d) => s + (d.lead.annualRevenue ?? 0), 0) / rows.length;
    };
    expect(revenuePerHead(1_000, 50_000)).toBeGreaterThan(revenuePerHead(1, 50) * 20);
    const industries = new Set(sample.map((d) => d.lead.industry));
    for (const i of [
      "software",
      "fintech",
      "healthcare",
      "manufacturing",
      "retail",
      "education",
      "government",
    ]) {
      expect(industries).toContain(i);
    }
  });

  it("when behaviour is generated, then strong signals are rarer than page views and all fall in the last 120 days", () => {
    const counts = new Map<string, number>();
    let events = 0;
    const outOfRange: string[] = [];
    const unordered: number[] = [];
    for (const d of sample) {
      let previous = "";
      for (const e of d.events) {
        counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
        events++;
        const at = Date.parse(e.occurredAt);
        if (at > NOW || at < NOW - 120 * DAY) outOfRange.push(e.id);
        // Oldest first.
        if (e.occurredAt < previous) unordered.push(d.index);
        previous = e.occurredAt;
      }
    }
    expect(outOfRange).toEqual([]);
    expect(unordered).toEqual([]);
    const n = (t: string) => counts.get(t) ?? 0;
    expect(n("page_view")).toBeGreaterThan(n("demo_request") * 10);
    expect(n("email_open")).toBeGreaterThan(n("email_click"));
    for (const t of [
      "content_download",
      "webinar_attend",
      "trial_start",
      "meeting_booked",
      "unsubscribe",
      "email_bounce",
      "form_submit",
    ]) {
      expect(n(t), t).toBeGreaterThan(0);
    }
    const withDemo = sample.filter((d) => d.events.some((e) => e.type === "demo_request")).length;
    expect(withDemo / sample.length).toBeGreaterThan(0.01);
    expect(withDemo / sample.length).toBeLessThan(0.15);
    // The default mean is about eight events per lead.
    expect(events / sample.length).toBeGreaterThan(6);
    expect(events / sample.length).toBeLessThan(10);
  });

  it("when eventsPerLead is given, then the average follows it", () => {
    let events = 0;
    for (const d of generateDemo({ seed: 5, leads: 5_000, now: NOW, eventsPerLead: 20 })) {
      events += d.events.length;
    }
    expect(events / 5_000).toBeGreaterThan(15);
    expect(events / 5_000).toBeLessThan(25);
  });

  it("when a lead demos, then its intent is high; careers visitors are mostly students", () => {
    const demo = sample.filter((d) => d.events.some((e) => e.type === "demo_request"));
    const rest = sample.filter((d) => !demo.includes(d));
    const mean = (xs: DemoLead[]) => xs.reduce((s, d) => s + d.truth.intent, 0) / xs.length;
    expect(mean(demo)).toBeGreaterThan(mean(rest) + 0.2);
    const careers = sample.filter((d) =>
      d.events.some((e) => String(e.properties.url ?? "").includes("/careers")),
    );
    const studentShare = (xs: DemoLead[]) =>
      xs.filter((d) => d.truth.seniority === "student").length / xs.length;
    expect(studentShare(careers)).toBeGreaterThan(studentShare(sample) * 3);
  });

  it("when outcomes are drawn, then a share of leads closes and the best fit wins most", () => {
    const closed = sample.filter((d) => d.outcome);
    expect(closed.length / sample.length).toBeGreaterThan(0.05);
    expect(closed.length / sample.length).toBeLessThan(0.3);
    const wonRate = (xs: DemoLead[]) =>
      xs.filter((d) => d.outcome?.outcome === "won").length / xs.length;
    const top = closed.filter((d) => d.truth.fit >= 0.6);
    const bottom = closed.filter((d) => d.truth.fit < 0.3);
    expect(wonRate(top)).toBeGreaterThan(wonRate(bottom) * 3);
    const overall = wonRate(closed);
    expect(overall).toBeGreaterThan(0.1);
    expect(overall).toBeLessThan(0.4);
    const lost = closed.filter((d) => d.outcome?.outcome === "lost");
    expect(lost.every((d) => d.outcome?.reason)).toBe(true);
    expect(closed.some((d) => d.outcome?.outcome === "not_a_fit")).toBe(true);
  });

  it("when owners are set, then they are demo reps with valid Slack user ids", () => {
    const owned = sample.filter((d) => d.lead.owner);
    expect(owned.length).toBeGreaterThan(sample.length * 0.05);
    for (const d of owned) {
      expect(d.lead.owner).toMatch(/^[UW][A-Z0-9]{2,}$/);
      expect(DEMO_REPS).toContain(d.lead.owner);
    }
  });

  it("when options are wrong, then it says which", () => {
    expect(() => [...generateDemo({ seed: 1, leads: -1, now: NOW })]).toThrow(/leads/);
    expect(() => [...generateDemo({ seed: 1, leads: 1, now: Number.NaN })]).toThrow(/now/);
  });
});

for (const config of testDatabases()) {
  describe(`loading the demo data on ${config.name}`, () => {
    let services: Services;
    let db: Db;
    let cleanup: () => Promise<void>;
    const LEADS = 2_000;

    beforeAll(async () => {
      const opened = await withDatabase(config);
      cleanup = opened.cleanup;
      db = opened.database.db;
      await ensureModel(opened.database.db);
      services = createServices({
        database: opened.database,
        logger: silentLogger,
        clock: () => NOW,
      });
    });

    afterAll(async () => {
      await cleanup?.();
    });

    const count = async (table: string) => {
      const [row] = await execRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from ${sql.identifier(table)}`,
      );
      return row?.n ?? 0;
    };

    it("when the local-mode data set is loaded, then every lead, event and outcome is stored and scored", async () => {
      const expected = { leads: 0, events: 0, outcomes: 0 };
      for (const d of generateDemo({ seed: 42, leads: LEADS, now: NOW })) {
        expected.leads++;
        expected.events += d.events.length;
        if (d.outcome) expected.outcomes++;
      }
      const loaded = await loadDemoData(services, { seed: 42, leads: LEADS });
      expect(loaded).toMatchObject(expected);
      expect(await count("leads")).toBe(expected.leads);
      expect(await count("events")).toBe(expected.events);
      expect(await count("outcomes")).toBe(expected.outcomes);
      expect(await count("lead_scores")).toBe(expected.leads);

      const [stages] = await execRows<{ mql: number; sql: number; owned: number }>(
        db,
        sql`select count(*) filter (where stage = 'mql')::int as mql,
                   count(*) filter (where stage = 'sql')::int as sql,
                   (select count(*)::int from leads where owner like 'U0DEMOREP%') as owned
            from lead_scores`,
      );
      // A believable funnel: some MQLs, fewer SQLs, most leads still leads.
      expect(stages?.mql).toBeGreaterThan(LEADS * 0.03);
      expect(stages?.sql).toBeGreaterThan(0);
      expect(stages?.sql).toBeLessThan(stages?.mql ?? 0);
      expect((stages?.mql ?? 0) + (stages?.sql ?? 0)).toBeLessThan(LEADS * 0.4);
      expect(stages?.owned).toBeGreaterThan(0);

      const byUser = await execRows<{ by_user: string; source: string }>(
        db,
        sql`select distinct by_user, source from outcomes`,
      );
      for (const r of byUser) {
        expect(r.by_user).toMatch(/^U0DEMO/);
        expect(r.source).toBe("api");
      }
    });

    it("when scored by the default model, then A-grade leads win more often than the rest", async () => {
      const rows = await execRows<{ a: boolean; n: number; won: number }>(
        db,
        sql`select s.grade = 'A' as a, count(*)::int as n,
                   count(*) filter (where o.outcome = 'won')::int as won
            from outcomes o join lead_scores s using (lead_id)
            group by 1`,
      );
      const rate = (a: boolean) => {
        const r = rows.find((x) => x.a === a);
        return r && r.n > 0 ? r.won / r.n : 0;
      };
      expect(rows.find((r) => r.a)?.n).toBeGreaterThan(20);
      expect(rate(true)).toBeGreaterThan(rate(false) * 1.5);
    });

    it("when it is loaded again, then nothing is stored twice", async () => {
      const before = {
        leads: await count("leads"),
        events: await count("events"),
        outcomes: await count("outcomes"),
      };
      const again = await loadDemoData(services, { seed: 42, leads: LEADS, now: NOW + DAY });
      expect(again.alerts).toBe(0);
      expect({
        leads: await count("leads"),
        events: await count("events"),
        outcomes: await count("outcomes"),
      }).toEqual(before);
    });
  });
}

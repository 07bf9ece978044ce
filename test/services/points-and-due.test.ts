import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DUE_TOLERANCE } from "../../src/core/due.js";
import {
  DAY_MS,
  nextStage,
  type RuleDecay,
  rescaledBreakdown,
  score,
} from "../../src/core/engine.js";
import {
  type Activity,
  type BreakdownEntry,
  modelSchema,
  type ScoringModel,
  type Stage,
} from "../../src/core/model.js";
import { execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { activeModel, ensureModel, insertModelVersion } from "../../src/services/models.js";
import { rescoreForModelChange } from "../../src/services/rescore.js";
import { alertLead, leadFacts } from "../../src/services/scoring.js";
import {
  suiteDatabase,
  type TestDatabase,
  testDatabases,
  truncateAll,
  withDatabase,
} from "../support/db.js";

const START = Date.parse("2026-11-01T12:00:00Z");
const HOUR = 3_600_000;

/** A small seeded generator (mulberry32), so a failing case can be run again. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)] as T,
  };
}
type Rng = ReturnType<typeof prng>;

const TITLES = ["VP Sales", "CEO", "Engineer", "Director of IT", "Student", "Head of Growth"];
const INDUSTRIES = ["software", "fintech", "retail", "education"];
const TYPES = [
  "demo_request",
  "meeting_booked",
  "trial_start",
  "page_view",
  "page_view",
  "page_view",
  "webinar_attend",
  "content_download",
  "form_submit",
  "email_click",
  "email_open",
  "unsubscribe",
  "email_bounce",
];
const URLS = ["/pricing", "/product", "/features", "/careers", "/blog/a", "/"];

let seq = 0;
function randomEvent(rng: Rng, email: string, now: number, maxAgeDays: number) {
  const type = rng.pick(TYPES);
  // A few events come stamped minutes ahead (clock skew): they count as happening now.
  const at =
    rng.next() < 0.05 ? now + rng.int(1, 30) * 60_000 : now - rng.next() * maxAgeDays * DAY_MS;
  return {
    id: `ev-${++seq}`,
    email,
    type,
    occurredAt: new Date(Math.round(at)).toISOString(),
    ...(type === "page_view" ? { properties: { url: rng.pick(URLS) } } : {}),
  };
}

async function seed(s: Services, rng: Rng, n: number, now: number, eventsPerLead: number) {
  const emails = Array.from({ length: n }, (_, i) => `p${i}@co${i % 5}.io`);
  await s.upsertLeads(
    emails.map((email) => ({
      email,
      title: rng.pick(TITLES),
      industry: rng.pick(INDUSTRIES),
      employees: rng.int(5, 3000),
      country: rng.pick(["US", "DE", "FR"]),
    })),
  );
  const events = emails.flatMap((email) =>
    Array.from({ length: rng.int(0, eventsPerLead) }, () => randomEvent(rng, email, now, 100)),
  );
  await s.recordEvents(events);
  await s.scoring.flush();
  return emails;
}

/** The default model with other caps, thresholds and points: each rule keeps its sign. */
function randomModel(rng: Rng, base: ScoringModel): ScoringModel {
  const scale = (p: number) => {
    const v = Math.round(p * (0.3 + rng.next() * 2.5) * 100) / 100;
    return v === 0 ? Math.sign(p) : v;
  };
  const mql = rng.int(20, 60);
  return modelSchema.parse({
    ...base,
    fit: {
      cap: rng.int(15, 60),
      rules: base.fit.rules.map((r) => ({ ...r, points: scale(r.points) })),
    },
    engagement: {
      ...base.engagement,
      cap: rng.int(20, 80),
      rules: base.engagement.rules.map((r) => ({ ...r, points: scale(r.points) })),
    },
    thresholds: { mql, sql: mql + rng.int(5, 40), hysteresis: rng.int(0, Math.min(8, mql - 1)) },
  });
}

/** A change of one to three rules' points, each keeping its sign. */
function pointChange(rng: Rng, m: ScoringModel): ScoringModel {
  const ids = [...m.fit.rules, ...m.engagement.rules].map((r) => r.id);
  const changed = new Set(Array.from({ length: rng.int(1, 3) }, () => rng.pick(ids)));
  // The widest rule changes in every other case.
  if (rng.next() < 0.5) changed.add("page_view");
  const move = (r: { id: string; points: number }) =>
    changed.has(r.id)
      ? Math.sign(r.points) *
        Math.max(0.01, Math.round(Math.abs(r.points) * rng.next() * 300) / 100)
      : r.points;
  return modelSchema.parse({
    ...m,
    fit: { ...m.fit, rules: m.fit.rules.map((r) => ({ ...r, points: move(r) })) },
    engagement: {
      ...m.engagement,
      rules: m.engagement.rules.map((r) => ({ ...r, points: move(r) })),
    },
  });
}

interface StoredRow {
  id: number;
  total: number;
  fit: number;
  engagement: number;
  grade: string;
  level: number;
  stage: Stage;
  breakdown: BreakdownEntry[];
  act: Activity;
  scored_at: number;
  model_version: number;
  lines_version: number | null;
  decay: RuleDecay;
}

for (const config of testDatabases()) {
  describe(`a change of points on ${config.name}`, () => {
    const t = suiteDatabase(config);
    let s: Services;
    let now = START;

    beforeEach(async () => {
      now = START;
      s = createServices({ database: t.database, logger: silentLogger, clock: () => now });
    });

    const storedRows = () =>
      execRows<StoredRow & Parameters<typeof leadFacts>[0]>(
        t.database.db,
        sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
              l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
              l.attributes, s.total, s.fit, s.engagement, s.grade, s.level::int as level, s.stage,
              s.breakdown, s.activity as act, s.model_version, s.lines_version, s.decay,
              date_part('epoch', s.scored_at) * 1000 as scored_at
            from leads l join lead_scores s on s.lead_id = l.id order by l.id`,
      );

    it("when points change, once or several times over, then every lead's score, stage, grade and breakdown are a full rescore's as of its scoring", async () => {
      const rng = prng(20261101);
      await seed(s, rng, 60, now, 14);
      const base = (await activeModel(t.database.db)).model;
      let crossings = 0;
      let rewritten = 0;
      let rescaled = 0;
      let alerted = 0;
      const versions = new Map<number, ScoringModel>();
      for (let round = 0; round < 8; round++) {
        let from = randomModel(rng, base);
        await insertModelVersion(t.database.db, from, { by: "test" });
        // Every lead scored under `from` at `now`: the state a change starts from.
        await s.rescoreAll("model");
        // Odd rounds change points again on top of the last change, with no rescore between:
        // the stored lines then carry points two or three versions old.
        const steps = round % 2 === 0 ? 1 : 3;
        for (let step = 0; step < steps; step++) {
          const before = await storedRows();
          const to = pointChange(rng, from);
          versions.set(await insertModelVersion(t.database.db, to, { by: "test" }), to);
          // Half the changes come hours after the leads were scored.
          const changeAt = round % 4 < 2 ? now : now + rng.int(1, 6) * HOUR;
          // Slices of a few lead ids, so one change spans many statements.
          const r = await rescoreForModelChange(t.database.db, from, {
            now: changeAt,
            cause: "model",
            chunk: 7,
          });
          expect(r.plan).toBe("targeted");
          const after = await storedRows();
          expect(after.map((x) => x.id)).toEqual(before.map((x) => x.id));
          const moved: number[] = [];
          for (const [i, row] of after.entries()) {
            const prev = before[i] as StoredRow;
            // The set-based update keeps each row's scoring time: it is a rescore as of then.
            expect(row.scored_at).toBe(now);
            const exact = score(leadFacts(row), row.act, to, row.scored_at);
            const stage = nextStage(prev.stage, exact.total, to.thresholds);
            // Lines a change left in place are read rescaled to the points of the row's version
            // (this change's, or an earlier one's where this change does not apply).
            let lines = row.breakdown;
            if (row.lines_version !== row.model_version) {
              const model = versions.get(row.model_version);
              expect(model).toBeDefined();
              lines = rescaledBreakdown(row.breakdown, row.decay, model as ScoringModel);
              rescaled++;
            }
            expect({
              id: row.id,
              total: row.total,
              fit: row.fit,
              engagement: row.engagement,
              grade: row.grade,
              level: row.level,
              stage: row.stage,
              breakdown: lines,
            }).toEqual({
              id: row.id,
              total: exact.total,
              fit: exact.fit,
              engagement: exact.engagement,
              grade: exact.grade,
              level: exact.level,
              stage,
              breakdown: exact.breakdown,
            });
            if (stage !== prev.stage) moved.push(row.id);
            if (row.total !== prev.total) rewritten++;
            // The alert of a crossing gives its reasons with this change's points, adding up to
            // the total it shows.
            if (stage !== prev.stage && row.lines_version !== row.model_version) {
              const shown = await alertLead(t.database.db, row.id);
              expect(shown?.breakdown).toEqual(exact.breakdown);
              expect(shown?.total).toBe(exact.total);
              alerted++;
            }
          }
          // Each stage move is one recorded crossing of the change, stamped with its time.
          const recorded = await execRows<{ lead_id: number; at: number }>(
            t.database.db,
            sql`select lead_id::int as lead_id, date_part('epoch', at) * 1000 as at
                from stage_transitions where cause = 'model' and model_version = ${r.version}
                order by lead_id`,
          );
          expect(recorded).toEqual(moved.map((lead_id) => ({ lead_id, at: changeAt })));
          crossings += moved.length;
          from = to;
        }
      }
      // The generated cases moved scores, crossed stages and left lines to rescale, or they
      // would prove nothing.
      expect(rewritten).toBeGreaterThan(100);
      expect(crossings).toBeGreaterThan(0);
      expect(rescaled).toBeGreaterThan(100);
      expect(alerted).toBeGreaterThan(0);
    });

    it("when points change, then the answer for one lead is still exact as of now", async () => {
      const rng = prng(7);
      const [email] = await seed(s, rng, 5, now, 20);
      const from = (await activeModel(t.database.db)).model;
      const to = modelSchema.parse({
        ...from,
        engagement: {
          ...from.engagement,
          rules: from.engagement.rules.map((r) => (r.id === "page_view" ? { ...r, points: 3 } : r)),
        },
      });
      await insertModelVersion(t.database.db, to, { by: "test" });
      now += 5 * HOUR;
      await rescoreForModelChange(t.database.db, from, { now, cause: "model" });
      const detail = await s.leads.get(email as string);
      const [row] = (await storedRows()).filter((x) => x.email === email);
      const exact = score(
        leadFacts(row as StoredRow & Parameters<typeof leadFacts>[0]),
        (row as StoredRow).act,
        to,
        now,
      );
      expect({ score: detail.score, fit: detail.fit, engagement: detail.engagement }).toEqual({
        score: exact.total,
        fit: exact.fit,
        engagement: exact.engagement,
      });
    });
    /** The default model with page_view's points changed: a change most leads' scores feel. */
    const pageViewAt = (m: ScoringModel, points: number) =>
      modelSchema.parse({
        ...m,
        engagement: {
          ...m.engagement,
          rules: m.engagement.rules.map((r) => (r.id === "page_view" ? { ...r, points } : r)),
        },
      });
    /** A lead has page views whose points still count (the change moves its score). */
    const viewedLead = (r: StoredRow) => (r.decay.page_view?.[1] ?? 0) > 0.05;
    /**
     * Every stored row against a full score as of its own scoring time, with `model`; the leads
     * with page views carry `version`.
     */
    const expectAllExact = async (model: ScoringModel, version: number) => {
      for (const row of await storedRows()) {
        const exact = score(leadFacts(row), row.act, model, row.scored_at);
        expect({ id: row.id, total: row.total }).toEqual({ id: row.id, total: exact.total });
        if (viewedLead(row)) expect(row.model_version).toBe(version);
      }
    };

    it("when the scorer scores a lead with the new points before the change reaches it, then the change leaves that lead as the scorer wrote it", async () => {
      const rng = prng(11);
      const emails = await seed(s, rng, 20, now, 20);
      const from = (await activeModel(t.database.db)).model;
      const to = pageViewAt(from, 4);
      const version = await insertModelVersion(t.database.db, to, { by: "test" });
      // A lead with page views gets an event between the new version and the change.
      const viewed = (await storedRows()).find(viewedLead);
      expect(viewed).toBeDefined();
      await s.recordEvents([
        {
          id: "between",
          email: viewed?.email,
          type: "page_view",
          occurredAt: new Date(now).toISOString(),
          properties: { url: "/" },
        },
      ]);
      await s.scoring.flush();
      const scored = (await storedRows()).find((r) => r.id === viewed?.id);
      expect(scored?.model_version).toBe(version);
      const r = await rescoreForModelChange(t.database.db, from, { now, cause: "model", chunk: 4 });
      expect(r.plan).toBe("targeted");
      // Applied twice, the page views would count at the new points plus the change again.
      expect((await storedRows()).find((x) => x.id === viewed?.id)?.total).toBe(scored?.total);
      await expectAllExact(to, version);
      expect(emails.length).toBe(20);
    });

    it("when one slice of a change fails, then the slices before it stand, no further slice starts, and the next start finishes the change", async () => {
      const rng = prng(12);
      await seed(s, rng, 24, now, 20);
      const from = (await activeModel(t.database.db)).model;
      const to = pageViewAt(from, 5);
      const version = await insertModelVersion(t.database.db, to, { by: "test" });
      const last = (await storedRows()).filter(viewedLead).pop()?.id as number;
      expect(last).toBeGreaterThan(12);
      // The slice holding the highest lead fails as it writes that lead's history.
      await t.database.db.execute(
        sql.raw(`
        create function fail_one() returns trigger language plpgsql as $$
        begin
          if new.lead_id = ${last} then raise exception 'slice failure for the test'; end if;
          return new;
        end $$`),
      );
      await t.database.db.execute(
        sql.raw(`create trigger fail_one before insert on score_history
          for each row execute function fail_one()`),
      );
      try {
        const failed = await rescoreForModelChange(t.database.db, from, {
          now,
          cause: "model",
          chunk: 3,
        }).then(
          () => undefined,
          (err: Error & { cause?: Error }) => err,
        );
        expect(String(failed?.cause?.message ?? failed?.message)).toMatch(
          /slice failure for the test/,
        );
      } finally {
        await t.database.db.execute(sql.raw("drop trigger fail_one on score_history"));
        await t.database.db.execute(sql.raw("drop function fail_one()"));
      }
      const partial = await storedRows();
      expect(partial.find((x) => x.id === last)?.model_version).not.toBe(version);
      expect(partial.filter((x) => x.model_version === version).length).toBeGreaterThan(0);
      // The change's run is left unfinished; once its claim lapses the next start takes it.
      const [run] = await execRows<{ after: number; finished: boolean }>(
        t.database.db,
        sql`select after_lead_id::int as after, finished_at is not null as finished
            from rescore_runs order by id desc limit 1`,
      );
      expect(run?.finished).toBe(false);
      expect(run?.after).toBeLessThan(last);
      await t.database.db.execute(
        sql`update rescore_runs set claimed_until = now() - interval '1 second'`,
      );
      const resumed = await s.resumeRescores();
      expect(resumed.runs.length).toBe(1);
      await expectAllExact(to, version);
    });
  });

  describe(`the decay refresh on ${config.name}`, () => {
    let full: TestDatabase;
    let due: TestDatabase;
    let now = START;

    beforeAll(async () => {
      full = await withDatabase(config);
      due = await withDatabase(config);
    });
    afterAll(async () => {
      await full?.cleanup();
      await due?.cleanup();
    });

    it("when weeks pass hour by hour, then refreshing only due leads makes the crossings a full rescore makes", async () => {
      const services = [full, due].map((d) =>
        createServices({ database: d.database, logger: silentLogger, clock: () => now }),
      );
      const [sFull, sDue] = services as [Services, Services];
      for (const d of [full, due]) {
        await truncateAll(d.database.db);
        await ensureModel(d.database.db);
      }
      // The same leads and events in both stores, from the same seed.
      const emails = await seed(sFull, prng(99), 40, now, 12);
      await seed(sDue, prng(99), 40, now, 12);
      const rng = prng(5);
      let scoredFull = 0;
      let scoredDue = 0;
      for (let hour = 1; hour <= 14 * 24; hour++) {
        now += HOUR;
        // Now and then new events arrive for a few leads: scored at once in both stores.
        if (hour % 17 === 0) {
          const batch = Array.from({ length: 3 }, () =>
            randomEvent(rng, rng.pick(emails), now, 0.5),
          );
          await sFull.recordEvents(batch);
          await sDue.recordEvents(batch);
          await Promise.all([sFull.scoring.flush(), sDue.scoring.flush()]);
        }
        scoredFull += (await sFull.rescoreAll("decay")).scored;
        scoredDue += (await sDue.refreshDecay()).scored;
        if (hour % 24 === 0) {
          const totals = await Promise.all(
            [full, due].map((d) =>
              execRows<{ id: number; total: number; stage: string }>(
                d.database.db,
                sql`select lead_id::int as id, total, stage from lead_scores order by lead_id`,
              ),
            ),
          );
          const [a, b] = totals as [(typeof totals)[0], (typeof totals)[0]];
          expect(b.map((x) => [x.id, x.stage])).toEqual(a.map((x) => [x.id, x.stage]));
          for (const [i, x] of b.entries())
            expect(Math.abs(x.total - (a[i]?.total ?? 0))).toBeLessThanOrEqual(DUE_TOLERANCE);
        }
      }
      const crossings = await Promise.all(
        [full, due].map((d) =>
          execRows<{
            lead_id: number;
            from_stage: string;
            to_stage: string;
            cause: string;
            at: string;
          }>(
            d.database.db,
            sql`select lead_id::int as lead_id, from_stage, to_stage, cause, at::text as at
                from stage_transitions order by at, lead_id`,
          ),
        ),
      );
      const [fromFull, fromDue] = crossings as [(typeof crossings)[0], (typeof crossings)[0]];
      expect(fromDue).toEqual(fromFull);
      // Decay took some leads down a stage, or the comparison would prove little.
      expect(fromFull.filter((c) => c.cause === "decay").length).toBeGreaterThan(0);
      // The due refresh looked at far fewer leads than the full one.
      expect(scoredDue).toBeLessThan(scoredFull / 4);
    });
  });
}

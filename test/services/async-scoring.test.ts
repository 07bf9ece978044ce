import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, execRows, openDatabase } from "../../src/db/client.js";
import { InFlight } from "../../src/lib/in-flight.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { createScorer } from "../../src/services/scorer.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const HOUR = 3_600_000;

/**
 * Per hot lead: how many events of each type, each within the rule's `maxCount`, so a lead's
 * stored activity holds exactly one entry per event scored: 29 in all.
 */
const PER_LEAD: Record<string, number> = {
  page_view: 10,
  email_open: 5,
  email_click: 5,
  content_download: 3,
  webinar_attend: 3,
  form_submit: 3,
};
const PER_LEAD_TOTAL = Object.values(PER_LEAD).reduce((a, b) => a + b, 0);
const HOT = ["hot1@acme.com", "hot2@acme.com", "hot3@acme.com", "hot4@acme.com"];

for (const config of testDatabases()) {
  describe(`scoring accepted events on ${config.name}`, () => {
    const t = suiteDatabase(config);
    /** A second connection pool on the same database: another app instance (Postgres only). */
    let second: Database | undefined;
    let a: Services;
    let b: Services;

    beforeAll(async () => {
      if (config.name === "postgres")
        second = await openDatabase({ url: t.url, migrate: false, maxConnections: 5 });
    });
    afterAll(async () => {
      await second?.close();
    });
    beforeEach(async () => {
      const opts = { logger: silentLogger, clock: () => NOW, scoringPollMs: 20 };
      a = createServices({ database: t.database, ...opts });
      // On PGlite one process holds the database: the second scorer shares its connection.
      b = createServices({ database: second ?? t.database, ...opts });
    });

    const rows = <T>(q: ReturnType<typeof sql>) => execRows<T>(t.database.db, q);

    /** A scorer of its own whose instance is accepting batches while `ingest` runs any. */
    const yieldingScorer = (ingest: InFlight, maxYieldMs: number, pollMs = 20) =>
      createScorer({
        db: t.database.db,
        kind: t.database.kind,
        clock: () => NOW,
        logger: silentLogger,
        onAlerts: () => {},
        pollMs,
        ingest,
        maxYieldMs,
      });
    /** A batch held open in `ingest` until the returned function is called. */
    const holdOpen = (ingest: InFlight): (() => void) => {
      let release = () => {};
      void ingest.run(() => new Promise<void>((r) => (release = r)));
      return () => release();
    };

    it("when many batches on the same hot leads arrive at once and two scorers run, then every event is scored once and each crossing alerts once", async () => {
      await a.upsertLeads(
        HOT.map((email) => ({
          email,
          title: "VP Sales",
          industry: "software",
          employees: 900,
          country: "US",
        })),
      );
      // One event of each lead per batch, so every batch touches every hot lead.
      const kinds = Object.entries(PER_LEAD).flatMap(([type, n]) =>
        Array.from({ length: n }, () => type),
      );
      const batches = kinds.map((type, k) =>
        HOT.map((email, i) => ({
          id: `hot-${k}-${i}`,
          email,
          type,
          occurredAt: new Date(NOW - (k + 1) * HOUR).toISOString(),
          properties: type === "page_view" ? { url: `/blog/${k}` } : {},
        })),
      );
      a.scoring.start();
      b.scoring.start();
      try {
        // Each batch twice, through both instances: duplicates are counted, stored once.
        const results = await Promise.all(
          batches.flatMap((batch, k) => [
            (k % 2 === 0 ? a : b).recordEvents(batch),
            (k % 2 === 0 ? b : a).recordEvents(batch),
          ]),
        );
        expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(HOT.length * PER_LEAD_TOTAL);
        expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(HOT.length * PER_LEAD_TOTAL);
        await Promise.all([a.scoring.flush(), b.scoring.flush()]);
      } finally {
        await Promise.all([a.scoring.stop(), b.scoring.stop()]);
      }
      expect(await a.scoring.backlog()).toBe(0);

      const kept = await rows<{ email: string; n: number; stage: string }>(
        sql`select l.email, s.stage, (select coalesce(sum(jsonb_array_length(v)), 0)::int
              from jsonb_each(s.activity->'rules') as r(k, v)
              where k in (${sql.join(
                Object.keys(PER_LEAD).map((k) => sql`${k}`),
                sql`, `,
              )})) as n
            from lead_scores s join leads l on l.id = s.lead_id order by l.email`,
      );
      expect(kept).toEqual(HOT.map((email) => ({ email, n: PER_LEAD_TOTAL, stage: "sql" })));

      // Each upward crossing is one transition with one alert; no stage is crossed into twice.
      const crossings = await rows<{ email: string; to_stage: string; n: number; alerts: number }>(
        sql`select l.email, t.to_stage, count(*)::int as n,
              sum((select count(*) from alert_outbox o where o.transition_id = t.id))::int as alerts
            from stage_transitions t join leads l on l.id = t.lead_id
            group by l.email, t.to_stage order by l.email, t.to_stage`,
      );
      expect(crossings.length).toBeGreaterThanOrEqual(HOT.length);
      for (const c of crossings) expect(c).toMatchObject({ n: 1, alerts: 1 });
      const [outbox] = await rows<{ n: number }>(sql`select count(*)::int as n from alert_outbox`);
      expect(outbox?.n).toBe(crossings.length);
    });

    it("when a lead is first seen in a batch whose events were all stored before, then it is still scored", async () => {
      const first = await a.recordEvents([
        { id: "only-once", email: "first@acme.com", type: "email_open", occurredAt: NOW },
      ]);
      expect(first).toMatchObject({ accepted: 1, leadsCreated: 1, scoring: "pending" });
      // The same event id under a new email: a duplicate, but the new lead exists now.
      const again = await a.recordEvents([
        { id: "only-once", email: "second@acme.com", type: "email_open", occurredAt: NOW },
      ]);
      expect(again).toMatchObject({ accepted: 0, duplicates: 1, leadsCreated: 1 });
      expect((await a.leads.get("second@acme.com")).scoring).toBe("pending");
      await a.scoring.flush();
      const second = await a.leads.get("second@acme.com");
      expect(second.scoring).toBe("current");
      expect(second.modelVersion).not.toBeNull();
      expect((await a.leads.get("first@acme.com")).breakdown.map((e) => e.ruleId)).toContain(
        "email_open",
      );
    });

    it("when an import records events, then they are scored in its own transaction, with nothing left to the scorer", async () => {
      const r = await a.recordEvents(
        [{ id: "imp-1", email: "imp@acme.com", type: "demo_request", occurredAt: NOW }],
        "import",
      );
      expect(r).toMatchObject({ accepted: 1, scoring: "done" });
      expect(await a.scoring.backlog()).toBe(0);
      const lead = await a.leads.get("imp@acme.com");
      expect(lead.scoring).toBe("current");
      expect(lead.breakdown.map((e) => e.ruleId)).toContain("demo_request");
    });

    it("when an instance has nothing to score, then it looks less and less often, and still finds what another instance accepts", async () => {
      const idle = createScorer({
        db: t.database.db,
        kind: t.database.kind,
        clock: () => NOW,
        logger: silentLogger,
        onAlerts: () => {},
        pollMs: 20,
      });
      idle.start();
      try {
        // The first look comes at start.
        for (let i = 0; i < 250 && idle.looks().empty === 0; i++)
          await new Promise((r) => setTimeout(r, 20));
        const first = idle.looks();
        expect(first.found).toBe(0);
        expect(first.empty).toBeGreaterThanOrEqual(1);
        await new Promise((r) => setTimeout(r, 1_500));
        const quiet = idle.looks();
        expect(quiet.found).toBe(0);
        // 20, 40, 80, ... up to a second apart: at most 7 more looks in 1.5 s (75 at a steady
        // 20 ms, each with every lane). A busy machine fires timers late, which only means fewer.
        expect(quiet.empty - first.empty).toBeLessThanOrEqual(7);
        // Another instance accepts (its own scorer is not running): this one finds it.
        await a.recordEvents([
          { id: "elsewhere", email: "elsewhere@acme.com", type: "email_open", occurredAt: NOW },
        ]);
        for (let i = 0; i < 250 && (await a.scoring.backlog()) > 0; i++)
          await new Promise((r) => setTimeout(r, 20));
        expect(await a.scoring.backlog()).toBe(0);
        expect(idle.looks().found).toBe(1);
        expect((await a.leads.get("elsewhere@acme.com")).scoring).toBe("current");
      } finally {
        await idle.stop();
      }
    });

    it("when batches are being accepted, then background rounds yield to them, at most the longest wait after the last round, and go on at once when accepting stops", async () => {
      const ingest = new InFlight();
      // The poll is a minute long: only the end of accepting can start the waiting round.
      const scorer = yieldingScorer(ingest, 60_000, 60_000);
      const event = (id: string) => ({
        id,
        email: `${id}@acme.com`,
        type: "email_open",
        occurredAt: NOW,
      });
      const backlog = () => a.scoring.backlog();
      const until = async (ok: () => Promise<boolean>) => {
        for (let i = 0; i < 500 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 20));
        return ok();
      };
      scorer.start();
      try {
        // The first round has no round before it to wait after: it runs though a batch is open.
        const release = holdOpen(ingest);
        await a.recordEvents([event("first")]);
        scorer.wake();
        expect(await until(async () => (await backlog()) === 0)).toBe(true);
        // The next waits while accepting goes on (up to a minute here)...
        await a.recordEvents([event("second")]);
        scorer.wake();
        await new Promise((r) => setTimeout(r, 300));
        expect(await backlog()).toBe(1);
        // ...and runs as soon as it stops: the last open batch ending wakes it.
        release();
        expect(await until(async () => (await backlog()) === 0)).toBe(true);
        expect((await a.leads.get("second@acme.com")).scoring).toBe("current");
      } finally {
        await scorer.stop();
      }
    });

    it("when the longest wait after the last round has passed, then a round runs though batches are still being accepted", async () => {
      const ingest = new InFlight();
      const release = holdOpen(ingest);
      const scorer = yieldingScorer(ingest, 200);
      scorer.start();
      try {
        for (const id of ["one", "two", "three"]) {
          await a.recordEvents([
            { id, email: `${id}@acme.com`, type: "email_open", occurredAt: NOW },
          ]);
          scorer.wake();
          for (let i = 0; i < 500 && (await a.scoring.backlog()) > 0; i++)
            await new Promise((r) => setTimeout(r, 20));
          expect(await a.scoring.backlog()).toBe(0);
        }
      } finally {
        await scorer.stop();
        release();
      }
    });
  });
}

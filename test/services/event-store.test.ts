import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { activityFromEvents, DAY_MS, score } from "../../src/core/engine.js";
import type { Activity, ActivityEvent, ScoringModel } from "../../src/core/model.js";
import { execRows } from "../../src/db/client.js";
import {
  EVENT_STORE_JOB,
  EVENT_STORE_SCHEDULE,
  eventStoreJob,
} from "../../src/jobs/event-store.js";
import { runTick } from "../../src/jobs/scheduler.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { activeModel, insertModelVersion } from "../../src/services/models.js";
import { rescoreForModelChange } from "../../src/services/rescore.js";
import { leadFacts } from "../../src/services/scoring.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

const NOW = Date.parse("2026-11-15T12:00:00Z");
const at = (iso: string) => Date.parse(iso);

for (const config of testDatabases()) {
  describe(`the partitioned event store on ${config.name}`, () => {
    const t = suiteDatabase(config);
    let s: Services;
    let kept: Services;

    beforeEach(async () => {
      // Partitions made by earlier tests outlive the truncate: start from the current month's.
      for (const p of await partitions())
        if (p !== "events_default")
          await t.database.db.execute(sql.raw(`drop table if exists "${p}"`));
      s = createServices({ database: t.database, logger: silentLogger, clock: () => NOW });
      await s.eventStore.maintain();
      kept = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => NOW,
        eventRetentionDays: 60,
      });
    });

    const rows = <T>(q: ReturnType<typeof sql>) => execRows<T>(t.database.db, q);
    async function partitions(): Promise<string[]> {
      return (
        await rows<{ name: string }>(
          sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
              where i.inhparent = 'events'::regclass order by 1`,
        )
      ).map((r) => r.name);
    }
    const whereIs = async (id: string) =>
      (
        await rows<{ p: string }>(
          sql`select tableoid::regclass::text as p from events where id = ${id}`,
        )
      ).map((r) => r.p);
    const countOf = async (table: string) =>
      Number((await rows<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n);

    let seq = 0;
    const ev = (email: string, type: string, when: number, url?: string) => ({
      id: `ev-${++seq}`,
      email,
      type,
      occurredAt: new Date(when).toISOString(),
      ...(url ? { properties: { url } } : {}),
    });

    it("when two instances tick the event-store job at once, then one runs it and the next months get partitions", async () => {
      const december = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => at("2026-12-20T10:41:00Z"),
      });
      const job = eventStoreJob(december);
      expect(job.name).toBe(EVENT_STORE_JOB);
      expect(job.schedule).toBe(EVENT_STORE_SCHEDULE);
      const tick = new Date("2026-12-20T10:41:00Z");
      const ran = await Promise.all([
        runTick(december.jobs, job, tick, "instance-a", silentLogger),
        runTick(december.jobs, job, tick, "instance-b", silentLogger),
      ]);
      expect(ran.filter(Boolean)).toHaveLength(1);
      expect(await partitions()).toEqual([
        "events_2026_11",
        "events_2026_12",
        "events_2027_01",
        "events_default",
      ]);
      const [run] = await rows<{ ok: boolean; detail: string }>(
        sql`select ok, detail from job_runs where job = ${EVENT_STORE_JOB}`,
      );
      expect(run).toEqual({ ok: true, detail: expect.stringContaining("2027-01") });
    });

    it("when the same id comes again, with the same or another time, then it is a duplicate and stored once", async () => {
      const first = ev("ann@acme.com", "email_open", at("2026-11-10T09:00:00Z"));
      expect((await s.recordEvents([first])).accepted).toBe(1);
      const again = await s.recordEvents([first]);
      expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
      // A CRM that re-sends an event may stamp it differently: still the same event.
      const moved = await s.recordEvents([
        { ...first, occurredAt: "2001-03-01T00:00:00Z" },
        { ...first, occurredAt: "2031-03-01T00:00:00Z" },
      ]);
      expect(moved).toMatchObject({ accepted: 0, duplicates: 2 });
      expect(await countOf("events")).toBe(1);
      expect(await countOf("event_ids")).toBe(1);
      expect(await whereIs(first.id)).toEqual(["events_2026_11"]);
    });

    it("when events arrive far in the past or the future, then they are accepted into the default partition", async () => {
      const old = ev("bob@acme.com", "demo_request", at("2001-05-05T00:00:00Z"));
      const ahead = ev("bob@acme.com", "email_open", at("2031-01-01T00:00:00Z"));
      const r = await s.recordEvents([old, ahead]);
      expect(r).toMatchObject({ accepted: 2, duplicates: 0, errors: [] });
      expect(await whereIs(old.id)).toEqual(["events_default"]);
      expect(await whereIs(ahead.id)).toEqual(["events_default"]);
      await s.scoring.flush();
      const [score] = await rows<{ rules: string[] }>(
        sql`select array(select jsonb_object_keys(activity->'rules')) as rules from lead_scores`,
      );
      expect(score?.rules).toContain("demo_request");
    });

    it("when a month gathers enough events in the default partition, then maintenance gives it a partition and moves them", async () => {
      expect(await partitions()).toEqual(["events_2026_11", "events_2026_12", "events_default"]);
      const march = Array.from({ length: 1000 }, (_, i) =>
        ev(`m${i % 20}@acme.com`, "email_open", at("2026-03-02T00:00:00Z") + i * 60_000),
      );
      await s.recordEvents(march);
      const stray = ev("zed@acme.com", "email_open", at("2005-07-07T00:00:00Z"));
      await s.recordEvents([stray]);
      expect(await countOf("events_default")).toBe(1001);

      const r = await s.eventStore.maintain();
      expect(r).toMatchObject({ created: ["2026-03"], moved: 1000, dropped: [], keptFrom: null });
      expect(await partitions()).toEqual([
        "events_2026_03",
        "events_2026_11",
        "events_2026_12",
        "events_default",
      ]);
      expect(await countOf("events_2026_03")).toBe(1000);
      expect(await whereIs(stray.id)).toEqual(["events_default"]);
      expect(await countOf("events")).toBe(1001);
      // A month past its turn gets its partition from the next run, and a second run does nothing.
      const later = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => at("2027-01-03T00:00:00Z"),
      });
      expect((await later.eventStore.maintain()).created).toEqual(["2027-01", "2027-02"]);
      expect((await later.eventStore.maintain()).created).toEqual([]);
      // The moved events are still found through the parent, by lead, as rebuilds read them.
      const [ids] = await rows<{ n: number }>(
        sql`select count(*)::int as n from events e join leads l on l.id = e.lead_id where l.email = 'm0@acme.com'`,
      );
      expect(ids?.n).toBe(50);
    });

    /** Leads with events in months retention will drop (June to August) and months it keeps. */
    async function seedHistory(): Promise<void> {
      await s.eventStore.maintain(["2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]);
      await s.upsertLeads(
        Array.from({ length: 6 }, (_, i) => ({
          email: `lead${i}@acme.com`,
          title: i % 2 ? "VP Sales" : "Engineer",
          industry: "software",
          employees: 300,
          country: "US",
        })),
      );
      const events: ReturnType<typeof ev>[] = [];
      const urls = ["/pricing", "/plans", "/product", "/blog", "/careers"];
      for (let i = 0; i < 6; i++) {
        const email = `lead${i}@acme.com`;
        for (let d = 0; d < 160; d += 4 + i) {
          const when = at("2026-06-05T10:00:00Z") + d * DAY_MS + i * 3_600_000;
          events.push(ev(email, "page_view", when, urls[(d + i) % urls.length]));
          if (d % 3 === 0) events.push(ev(email, "email_open", when + 60_000));
        }
        events.push(ev(email, "demo_request", at("2026-07-20T10:00:00Z") + i * DAY_MS));
        events.push(ev(email, "webinar_attend", at("2026-08-10T10:00:00Z")));
      }
      const r = await s.recordEvents(events);
      expect(r.errors).toEqual([]);
      await s.scoring.flush();
    }

    interface Snapshot {
      id: number;
      total: number;
      breakdown: unknown;
      activity: Activity;
    }
    const snapshot = () =>
      rows<Snapshot>(
        sql`select lead_id::int as id, total, breakdown, activity from lead_scores order by lead_id`,
      );
    const allEvents = () =>
      rows<ActivityEvent & { lead_id: number }>(
        sql`select lead_id::int as lead_id, type, (extract(epoch from occurred_at) * 1000)::float8 as at, properties from events`,
      );
    const eventsOf = (evs: (ActivityEvent & { lead_id: number })[], id: number) =>
      evs.filter((e) => e.lead_id === id);

    it("when retention drops old months, then every score, breakdown and activity stays as it was", async () => {
      await seedHistory();
      const before = await snapshot();
      const everything = await allEvents();
      expect(before.length).toBe(6);

      const r = await kept.eventStore.maintain();
      expect(r.dropped).toEqual(["2026-06", "2026-07", "2026-08"]);
      expect(r.keptFrom).toBe(at("2026-09-01T00:00:00Z"));
      expect(await partitions()).not.toContain("events_2026_07");
      const left = await allEvents();
      expect(left.length).toBeGreaterThan(0);
      expect(left.length).toBeLessThan(everything.length);
      expect(left.every((e) => e.at >= at("2026-09-01T00:00:00Z"))).toBe(true);
      // The ledger keeps the ids: a late retry of a dropped event is still a duplicate.
      const dropped = everything.length - left.length;
      expect(await countOf("event_ids")).toBe(everything.length);
      expect(dropped).toBeGreaterThan(0);

      expect(await snapshot()).toEqual(before);
      // The hourly refresh at the same moment changes nothing either, and each score is still
      // what the engine gives from every event ever received, the dropped ones included.
      await kept.rescoreAll("decay");
      expect(await snapshot()).toEqual(before);
      const { model } = await activeModel(t.database.db);
      const leads = await rows<Parameters<typeof leadFacts>[0] & { id: number }>(
        sql`select id::int as id, email, external_id, first_name, last_name, title, company, industry,
          employees, annual_revenue, country, source, owner, attributes from leads order by id`,
      );
      for (const l of leads) {
        const full = activityFromEvents(eventsOf(everything, l.id), model);
        const stored = before.find((b) => b.id === l.id);
        expect(stored?.total).toBe(score(leadFacts(l), full, model, NOW).total);
      }
    });

    it("when an event older than the cut is not scored yet, then retention waits for the scorer", async () => {
      await seedHistory();
      const r = await s.recordEvents([
        ev("lead0@acme.com", "demo_request", at("2026-07-02T10:00:00Z")),
      ]);
      expect(r.accepted).toBe(1);
      const waited = await kept.eventStore.maintain();
      expect(waited.deferred).toBe(true);
      expect(waited.dropped).toEqual([]);
      expect(await partitions()).toContain("events_2026_07");

      await s.scoring.flush();
      const before = await snapshot();
      const done = await kept.eventStore.maintain();
      expect(done.deferred).toBeUndefined();
      expect(done.dropped).toEqual(["2026-06", "2026-07", "2026-08"]);
      expect(await snapshot()).toEqual(before);
    });

    it("when a rule's definition changes after a drop, then unchanged rules keep their old occurrences and changed ones count kept events", async () => {
      await seedHistory();
      const everything = await allEvents();
      await kept.eventStore.maintain();
      const current = await activeModel(t.database.db);
      const rules = current.model.engagement.rules.map((r) => {
        // pricing_page now matches other events: what it would have matched in June is gone.
        if (r.id === "pricing_page")
          return {
            ...r,
            where: [{ field: "url", op: "containsAny" as const, values: ["/pricing", "/plans"] }],
          };
        // email_open counts fewer occurrences: its stored list still holds the newest ones.
        if (r.id === "email_open") return { ...r, maxCount: 3 };
        return r;
      });
      const to: ScoringModel = {
        ...current.model,
        engagement: { ...current.model.engagement, rules },
      };
      await insertModelVersion(t.database.db, to, { by: "test", note: "pricing matches plans" });
      await rescoreForModelChange(t.database.db, current.model, { now: NOW, cause: "model" });

      const keptFrom = at("2026-09-01T00:00:00Z");
      const after = await snapshot();
      expect(after.length).toBe(6);
      for (const lead of after) {
        const all = eventsOf(everything, lead.id);
        const full = activityFromEvents(all, to);
        const fromKept = activityFromEvents(
          all.filter((e) => e.at >= keptFrom),
          to,
        );
        const expected: Record<string, number[]> = { ...full.rules };
        if (fromKept.rules.pricing_page) expected.pricing_page = fromKept.rules.pricing_page;
        else delete expected.pricing_page;
        expect(lead.activity.rules).toEqual(expected);
        expect(lead.activity.lastEventAt).toBe(full.lastEventAt);
        // Occurrences from before the cut still count where the rule did not change.
        expect(lead.activity.rules.demo_request?.[0]).toBeLessThan(keptFrom);
        expect(lead.activity.rules.email_open).toHaveLength(3);
      }
    });

    it("when a person is erased, then their events go from every partition and their ids from the ledger", async () => {
      await s.eventStore.maintain(["2026-03"]);
      const mine = [
        ev("eve@acme.com", "email_open", at("2026-03-10T00:00:00Z")),
        ev("eve@acme.com", "email_open", at("2026-11-10T00:00:00Z")),
        ev("eve@acme.com", "email_open", at("2001-01-10T00:00:00Z")),
      ];
      const theirs = ev("ola@acme.com", "email_open", at("2026-11-10T00:00:00Z"));
      await s.recordEvents([...mine, theirs]);
      expect((await whereIs(mine[0]?.id as string))[0]).toBe("events_2026_03");
      await s.leads.erase("eve@acme.com", "U0ADMIN01");
      for (const e of mine) expect(await whereIs(e.id)).toEqual([]);
      const ids = await rows<{ id: string }>(sql`select id from event_ids order by id`);
      expect(ids.map((r) => r.id)).toEqual([theirs.id]);
      expect(await countOf("events")).toBe(1);
    });
  });
}

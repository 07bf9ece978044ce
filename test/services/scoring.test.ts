import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { withThresholds, withWeights } from "../../src/core/diff.js";
import { activityFromEvents, DAY_MS, score } from "../../src/core/engine.js";
import type { ActivityEvent } from "../../src/core/model.js";
import { execRows } from "../../src/db/client.js";
import { claimTick } from "../../src/db/queries/jobs.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { activeModel, insertModelVersion } from "../../src/services/models.js";
import { createProposal, decideProposal } from "../../src/services/proposals.js";
import { rescoreForModelChange } from "../../src/services/rescore.js";
import { leadFacts } from "../../src/services/scoring.js";
import { grantRole } from "../../src/services/team.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

const START = Date.parse("2026-11-01T12:00:00Z");
const ADMIN = "U0ADMIN01";

for (const config of testDatabases()) {
  describe(`scoring services on ${config.name}`, () => {
    const t = suiteDatabase(config);
    let s: Services;
    let now = START;

    beforeEach(async () => {
      now = START;
      s = createServices({ database: t.database, logger: silentLogger, clock: () => now });
    });

    const rows = <T>(q: ReturnType<typeof sql>) => execRows<T>(t.database.db, q);
    const stageOf = async (email: string) =>
      (
        await rows<{ stage: string; total: number }>(
          sql`select s.stage, s.total from lead_scores s join leads l on l.id = s.lead_id where l.email = ${email}`,
        )
      )[0];
    const outbox = () => rows<{ stage: string }>(sql`select stage from alert_outbox order by id`);
    const transitions = () =>
      rows<{ from_stage: string; to_stage: string; cause: string }>(
        sql`select from_stage, to_stage, cause from stage_transitions order by id`,
      );

    /** Records events and waits for the scorer, as a caller that reads scores next does. */
    const recordScored = async (items: readonly unknown[]) => {
      const r = await s.recordEvents(items);
      await s.scoring.flush();
      return r;
    };

    let seq = 0;
    const event = (email: string, type: string, at: number, url?: string) => ({
      id: `ev-${++seq}`,
      email,
      type,
      occurredAt: new Date(at).toISOString(),
      ...(url ? { properties: { url } } : {}),
    });

    it("when a lead crosses MQL, hovers, decays out and comes back, then each crossing is recorded once", async () => {
      const email = "jane@acme.com";
      // fit 43: VP, software, 200-999 employees, US.
      await s.upsertLeads([
        { email, title: "VP Sales", industry: "software", employees: 300, country: "US" },
      ]);
      expect((await stageOf(email))?.stage).toBe("lead");

      await recordScored([event(email, "content_download", now)]);
      expect(await stageOf(email)).toEqual({ stage: "mql", total: 51 });
      expect(await outbox()).toEqual([{ stage: "mql" }]);

      // More activity keeps it an MQL: no second alert.
      await recordScored([event(email, "email_open", now)]);
      expect(await outbox()).toHaveLength(1);

      // A day later the download has decayed a little (51 → ~50.8): inside the hysteresis band.
      now += DAY_MS;
      await s.rescoreAll("decay");
      expect((await stageOf(email))?.stage).toBe("mql");

      // Two months on, inactivity and decay drop it below mql - hysteresis.
      now += 60 * DAY_MS;
      await s.rescoreAll("decay");
      expect((await stageOf(email))?.stage).toBe("lead");
      expect(await outbox()).toHaveLength(1);

      // A demo request and a meeting bring it back: a new crossing, a new alert.
      await recordScored([event(email, "demo_request", now), event(email, "meeting_booked", now)]);
      expect((await stageOf(email))?.stage).toBe("sql");
      expect(await outbox()).toEqual([{ stage: "mql" }, { stage: "sql" }]);
      expect(await transitions()).toEqual([
        { from_stage: "lead", to_stage: "mql", cause: "events" },
        { from_stage: "mql", to_stage: "lead", cause: "decay" },
        { from_stage: "lead", to_stage: "sql", cause: "events" },
      ]);
    });

    it("when the same batch is sent twice, then events and crossings are stored once", async () => {
      const batch = [event("a@b.io", "demo_request", now), event("a@b.io", "meeting_booked", now)];
      await s.upsertLeads([
        { email: "a@b.io", title: "CEO", industry: "fintech", employees: 2000 },
      ]);
      const first = await recordScored(batch);
      const second = await recordScored(batch);
      expect(first).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(second).toMatchObject({ accepted: 0, duplicates: 2, alerts: 0 });
      expect(await outbox()).toEqual([{ stage: "sql" }]);
    });

    async function seedMany(n: number) {
      const titles = ["VP Sales", "Engineer", "Director of IT", "Student", "CEO"];
      const types = ["page_view", "email_click", "demo_request", "content_download", "unsubscribe"];
      const urls = ["/pricing", "/blog/a", "/careers", "/product"];
      await s.upsertLeads(
        Array.from({ length: n }, (_, i) => ({
          email: `l${i}@co${i % 7}.com`,
          title: titles[i % titles.length],
          industry: i % 3 === 0 ? "software" : "retail",
          employees: (i * 37) % 3000,
        })),
      );
      const events = [];
      for (let i = 0; i < n * 4; i++) {
        const lead = (i * 7919) % n;
        events.push(
          event(
            `l${lead}@co${lead % 7}.com`,
            types[i % types.length] as string,
            now - ((i * 13) % 90) * DAY_MS,
            urls[i % urls.length],
          ),
        );
      }
      await recordScored(events);
    }

    /** Every lead's score recomputed from its raw events under the active model. */
    async function fromScratch(): Promise<Map<number, number>> {
      const { model } = await activeModel(t.database.db);
      const leads = await rows<Parameters<typeof leadFacts>[0] & { id: number }>(
        sql`select id::int as id, email, external_id, first_name, last_name, title, company, industry,
          employees, annual_revenue, country, source, owner, attributes from leads`,
      );
      const evs = await rows<{
        lead_id: number;
        type: string;
        at: number;
        properties: Record<string, unknown>;
      }>(
        sql`select lead_id::int as lead_id, type, (extract(epoch from occurred_at) * 1000)::float8 as at, properties from events`,
      );
      const byLead = new Map<number, ActivityEvent[]>();
      for (const e of evs) byLead.set(e.lead_id, [...(byLead.get(e.lead_id) ?? []), e]);
      return new Map(
        leads.map((l) => [
          l.id,
          score(leadFacts(l), activityFromEvents(byLead.get(l.id) ?? [], model), model, now).total,
        ]),
      );
    }
    const stored = async () =>
      new Map(
        (
          await rows<{ id: number; total: number }>(
            sql`select lead_id::int as id, total from lead_scores`,
          )
        ).map((r) => [r.id, r.total]),
      );

    it("when events are scored, then each stored breakdown is the engine's, entry for entry", async () => {
      await seedMany(60);
      const { model } = await activeModel(t.database.db);
      const leads = await rows<
        Parameters<typeof leadFacts>[0] & { id: number; breakdown: unknown }
      >(
        sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
          l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
          l.attributes, s.breakdown from leads l join lead_scores s on s.lead_id = l.id`,
      );
      const evs = await rows<ActivityEvent & { lead_id: number }>(
        sql`select lead_id::int as lead_id, type, (extract(epoch from occurred_at) * 1000)::float8 as at, properties from events`,
      );
      expect(leads.length).toBe(60);
      for (const l of leads) {
        const own = evs.filter((e) => e.lead_id === l.id);
        const expected = score(leadFacts(l), activityFromEvents(own, model), model, now).breakdown;
        expect(expected.length).toBeGreaterThan(0);
        expect(l.breakdown).toEqual(expected);
      }
    });

    it("when a weight changes, then the targeted rescore gives every lead the score a full recompute gives", async () => {
      await seedMany(60);
      const before = await activeModel(t.database.db);
      await insertModelVersion(
        t.database.db,
        withWeights(before.model, { demo_request: 45, title_vp: 5 }),
        { by: ADMIN },
      );
      const r = await rescoreForModelChange(t.database.db, before.model, { now, cause: "model" });
      expect(r.plan).toBe("targeted");
      expect(r.scored).toBeLessThan(60);
      expect(await stored()).toEqual(await fromScratch());
    });

    it("when batches for the same leads arrive concurrently, then no event is lost from their scores", async () => {
      const emails = ["c1@race.io", "c2@race.io", "c3@race.io"];
      await s.upsertLeads(
        emails.map((email) => ({ email, title: "Director", industry: "retail" })),
      );
      const types = ["page_view", "email_click", "content_download", "webinar_attend"];
      // Twelve batches in flight at once, each touching every lead: on Postgres they run on
      // separate connections and contend for the same lead rows.
      const batches = Array.from({ length: 12 }, (_, b) =>
        emails.map((email, i) =>
          event(
            email,
            types[(b + i) % types.length] as string,
            now - (b * 3 + i) * 3_600_000,
            `/p${b}`,
          ),
        ),
      );
      const results = await Promise.all(batches.map((batch) => s.recordEvents(batch)));
      await s.scoring.flush();
      expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(36);
      expect(await stored()).toEqual(await fromScratch());
      // Each lead got three events of each of four scored types; all twelve must be in its activity.
      const kept = await rows<{ email: string; n: number }>(
        sql`select l.email, (select sum(jsonb_array_length(v))::int
              from jsonb_each(s.activity->'rules') as r(k, v)
              where k in ('page_view', 'email_click', 'content_download', 'webinar_attend')) as n
            from lead_scores s join leads l on l.id = s.lead_id order by l.email`,
      );
      expect(kept).toEqual(emails.map((email) => ({ email, n: 12 })));
    });

    it("when a rule starts matching other events, then activity is rebuilt from the events", async () => {
      await seedMany(40);
      const before = await activeModel(t.database.db);
      const next = structuredClone(before.model);
      const pricing = next.engagement.rules.find((r) => r.id === "pricing_page");
      if (!pricing) throw new Error("default model lost pricing_page");
      pricing.where = [{ field: "url", op: "containsAny", values: ["/product"] }];
      await insertModelVersion(t.database.db, next, { by: ADMIN });
      const r = await rescoreForModelChange(t.database.db, before.model, { now, cause: "model" });
      expect(r.plan).toBe("all");
      expect(await stored()).toEqual(await fromScratch());
    });

    it("when thresholds drop, then leads move up and each move is one crossing", async () => {
      await seedMany(60);
      const before = await activeModel(t.database.db);
      const countQualified = async () =>
        (
          await rows<{ n: number }>(
            sql`select count(*)::int as n from lead_scores where stage <> 'lead'`,
          )
        )[0]?.n ?? 0;
      const qualifiedBefore = await countQualified();
      const alertsBefore = (await outbox()).length;
      await insertModelVersion(t.database.db, withThresholds(before.model, { mql: 20, sql: 60 }), {
        by: ADMIN,
      });
      const r = await rescoreForModelChange(t.database.db, before.model, { now, cause: "model" });
      const qualifiedAfter = await countQualified();
      expect(qualifiedAfter).toBeGreaterThan(qualifiedBefore);
      expect((await outbox()).length - alertsBefore).toBe(r.alerts);
      expect(r.alerts).toBeGreaterThan(0);
    });

    it("when proposals are decided, then only another manager approves, and never a stale one", async () => {
      await seedMany(20);
      const rep = "U0REP0001";
      const manager = "U0MGR0001";
      await grantRole(t.database.db, {
        by: ADMIN,
        userId: manager,
        role: "manager",
        admins: [ADMIN],
      });
      const a = await createProposal(t.database.db, {
        change: { kind: "thresholds", thresholds: { mql: 45 } },
        by: rep,
        now,
      });
      const b = await createProposal(t.database.db, {
        change: { kind: "weights", weights: { demo_request: 40 } },
        by: manager,
        now,
      });
      expect(a.preview.changes).toEqual(["MQL threshold: 50 → 45"]);
      expect(a.preview.impact.leads).toBe(20);

      const decide = (id: number, by: string, decision: "approve" | "reject" = "approve") =>
        decideProposal(t.database.db, { id, by, decision, admins: [ADMIN], now });
      await expect(decide(a.proposal.id, rep)).rejects.toThrow("Only managers can approve");
      await expect(decide(b.proposal.id, manager)).rejects.toThrow("You proposed this change");

      const approved = await decide(a.proposal.id, manager);
      expect(approved.status).toBe("approved");
      expect(approved.version).toBe(2);
      expect((await activeModel(t.database.db)).model.thresholds.mql).toBe(45);

      await expect(decide(b.proposal.id, ADMIN)).rejects.toThrow(/based on v1; v2 is active now/);
      await expect(decide(a.proposal.id, ADMIN)).rejects.toThrow("already approved");
      const rejected = await decide(b.proposal.id, ADMIN, "reject");
      expect(rejected.status).toBe("rejected");
      const audit = await rows<{ action: string }>(
        sql`select action from audit_log where action like 'proposal.%' order by id`,
      );
      // Refusals are audited by the use case itself, whichever adapter asked.
      expect(audit.map((x) => x.action)).toEqual([
        "proposal.created",
        "proposal.created",
        "proposal.refused",
        "proposal.refused",
        "proposal.approved",
        "proposal.refused",
        "proposal.refused",
        "proposal.rejected",
      ]);
      const rescored = await rows<{ subject: string }>(
        sql`select subject from audit_log where action = 'model.rescored'`,
      );
      expect(rescored.map((x) => x.subject)).toEqual(["model:2"]);
    });

    it("when two instances claim the same scheduled tick, then one runs it", async () => {
      const tick = new Date(Date.UTC(2026, 10, 1, 12, 17));
      const claims = await Promise.all([
        claimTick(t.database.db, { job: "decay-refresh", tick, instance: "a" }),
        claimTick(t.database.db, { job: "decay-refresh", tick, instance: "b" }),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(
        await claimTick(t.database.db, {
          job: "decay-refresh",
          tick: new Date(tick.getTime() + 3_600_000),
          instance: "b",
        }),
      ).toBe(true);
    });
  });
}

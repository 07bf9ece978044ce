import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, execRows, openDatabase } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { ensureModel } from "../../src/services/models.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";

const START = Date.parse("2026-11-02T12:00:00Z");
const ADMIN = "U0ADMIN01";
const REP1 = "U0REP0001";
const REP2 = "U0REP0002";
const REP3 = "U0REP0003";
const DAY = 86_400_000;

const ROUND_ROBIN = `
rules:
  - name: EMEA desk
    when:
      - { field: country, op: oneOf, values: [DE, FR] }
    target: { kind: user, user: ${REP3} }
  - name: US rotation
    when:
      - { field: country, op: equals, value: US }
    target: { kind: round_robin, users: [${REP1}, ${REP2}] }
`;

for (const config of testDatabases()) {
  describe(`routing services on ${config.name}`, () => {
    let t: TestDatabase;
    /** A second connection to the same database: a second app instance. */
    let second: Database;
    let a: Services;
    let b: Services;
    const now = START;

    beforeAll(async () => {
      t = await withDatabase(config);
      // PGlite cannot be opened twice: two service instances then share its one handle.
      second =
        config.name === "postgres"
          ? await openDatabase({ url: t.url, maxConnections: 5 })
          : t.database;
    });
    afterAll(async () => {
      if (second !== t.database) await second.close();
      await t?.cleanup();
    });
    beforeEach(async () => {
      await truncateAll(t.database.db);
      await ensureModel(t.database.db);
      a = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => now,
        admins: [ADMIN],
      });
      b = createServices({
        database: second,
        logger: silentLogger,
        clock: () => now,
        admins: [ADMIN],
      });
    });

    const rows = <T>(q: ReturnType<typeof sql>) => execRows<T>(t.database.db, q);

    /** Stores a lead and pushes it over the thresholds with three strong events. */
    async function qualify(s: Services, email: string, country: string): Promise<void> {
      const r = await s.upsertLeads([
        {
          email,
          firstName: "Hot",
          lastName: "Lead",
          title: "VP Sales",
          company: "Acme",
          industry: "Software",
          employees: 900,
          country,
        },
      ]);
      expect(r.errors).toEqual([]);
      const e = await s.recordEvents(
        ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
          id: `${email}-${i}`,
          email,
          type,
          occurredAt: new Date(now).toISOString(),
        })),
      );
      expect(e.errors).toEqual([]);
      // Qualified once scored (a concurrent flush may be the one that scores it).
      await s.scoring.flush();
      expect((await s.leads.get(email)).stage).not.toBe("lead");
    }

    const ownerCounts = () =>
      rows<{ owner: string | null; n: number }>(
        sql`select owner, count(*)::int as n from leads group by owner order by owner`,
      );

    it("when two instances qualify a hundred US leads at once, then the rotation's counts differ by at most one and each owner is DMed", async () => {
      await a.routing.apply({ text: ROUND_ROBIN, by: ADMIN });
      const emails = Array.from({ length: 100 }, (_, i) => `lead${i}@us.example`);
      // Ten leads at a time on each instance, both instances at once.
      for (let i = 0; i < emails.length; i += 20) {
        await Promise.all([
          Promise.all(emails.slice(i, i + 10).map((e) => qualify(a, e, "US"))),
          Promise.all(emails.slice(i + 10, i + 20).map((e) => qualify(b, e, "US"))),
        ]);
      }
      const counts = await ownerCounts();
      const n1 = counts.find((c) => c.owner === REP1)?.n ?? 0;
      const n2 = counts.find((c) => c.owner === REP2)?.n ?? 0;
      expect(n1 + n2).toBe(100);
      expect(Math.abs(n1 - n2)).toBeLessThanOrEqual(1);
      const routed = await rows<{ n: number }>(
        sql`select count(*)::int as n from lead_assignments where source = 'rule' and rule = 'US rotation'`,
      );
      expect(routed[0]?.n).toBe(100);
      const dms = await rows<{ n: number }>(
        sql`select count(*)::int as n from alert_outbox o join leads l on l.id = o.lead_id
            where o.dm_user = l.owner`,
      );
      const alerts = await rows<{ n: number }>(sql`select count(*)::int as n from alert_outbox`);
      expect(dms[0]?.n).toBe(alerts[0]?.n);
    });

    it("when a rep of the rotation is away, then the leads go to the others, and back once they return", async () => {
      await a.routing.apply({
        text: `rules:\n  - name: All\n    target: { kind: round_robin, users: [${REP1}, ${REP2}, ${REP3}] }\n`,
        by: ADMIN,
      });
      await a.routing.setAway({ userId: REP2, until: new Date(now + 10 * DAY), by: REP2 });
      for (let i = 0; i < 10; i++) await qualify(i % 2 === 0 ? a : b, `away${i}@x.example`, "US");
      const counts = await ownerCounts();
      expect(counts.find((c) => c.owner === REP2)).toBeUndefined();
      expect(counts.find((c) => c.owner === REP1)?.n).toBe(5);
      expect(counts.find((c) => c.owner === REP3)?.n).toBe(5);
      await a.routing.setAway({ userId: REP2, until: null, by: REP2 });
      for (let i = 0; i < 3; i++) await qualify(a, `back${i}@x.example`, "US");
      expect((await ownerCounts()).find((c) => c.owner === REP2)?.n).toBe(1);
    });

    it("when rules are applied, then the first matching rule wins, an unmatched lead waits for a claim, and the change is audited", async () => {
      await a.routing.apply({ text: ROUND_ROBIN, by: ADMIN });
      await qualify(a, "de@x.example", "DE");
      await qualify(a, "br@x.example", "BR");
      const owners = await rows<{ email: string; owner: string | null }>(
        sql`select email, owner from leads order by email`,
      );
      expect(owners).toEqual([
        { email: "br@x.example", owner: null },
        { email: "de@x.example", owner: REP3 },
      ]);
      const shown = await a.leads.get("de@x.example");
      expect(shown.assignment).toMatchObject({ source: "rule", rule: "EMEA desk", owner: REP3 });
      const audit = await a.team.history(5, ["routing.applied"]);
      expect(audit).toHaveLength(1);
      expect(audit[0]?.actor).toBe(ADMIN);
      const overview = await a.routing.overview();
      expect(overview.rules.map((r) => r.name)).toEqual(["EMEA desk", "US rotation"]);
      expect(overview.shares).toEqual([{ owner: REP3, rule: 1, claim: 0, person: 0 }]);
    });

    it("when someone who is not an admin applies rules, or the file is wrong, then nothing changes", async () => {
      await expect(a.routing.apply({ text: ROUND_ROBIN, by: REP1 })).rejects.toMatchObject({
        code: "forbidden",
      });
      await expect(
        a.routing.apply({ text: "rules:\n  - name: x\n    target: { kind: user }\n", by: ADMIN }),
      ).rejects.toMatchObject({ code: "invalid_input" });
      expect((await a.routing.overview()).rules).toEqual([]);
    });

    it("when a lead is claimed or assigned, then its assignment says so", async () => {
      await qualify(a, "c@x.example", "BR");
      await a.leads.assign({ lead: "c@x.example", owner: REP1, by: REP1, claim: true });
      expect((await a.leads.get("c@x.example")).assignment).toMatchObject({
        source: "claim",
        by: REP1,
      });
      await a.leads.assign({ lead: "c@x.example", owner: REP2, by: ADMIN });
      expect((await a.leads.get("c@x.example")).assignment).toMatchObject({
        source: "person",
        by: ADMIN,
        owner: REP2,
      });
    });
  });
}

import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { execRows } from "../../src/db/client.js";
import { openRescoreRuns } from "../../src/db/queries/rescores.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices } from "../../src/services/index.js";
import { rescoreAll, resumeRescores } from "../../src/services/rescore.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

const NOW = Date.parse("2026-11-01T12:00:00Z");

for (const config of testDatabases()) {
  describe(`rescore runs on ${config.name}`, () => {
    const t = suiteDatabase(config);

    beforeEach(async () => {
      const s = createServices({ database: t.database, logger: silentLogger, clock: () => NOW });
      await s.upsertLeads(
        Array.from({ length: 7 }, (_, i) => ({ email: `p${i}@acme.com`, company: "Acme" })),
      );
    });

    const leadIds = async () =>
      (
        await execRows<{ id: number }>(
          t.database.db,
          sql`select id::int as id from leads order by id`,
        )
      ).map((r) => r.id);
    const addRun = async (after: number, claimedUntil: string | null) => {
      await t.database.db.execute(sql`
        insert into rescore_runs (model_key, cause, after_lead_id, claimed_by, claimed_until)
        values ('default', 'model', ${after}, 'other', ${claimedUntil}::timestamptz)`);
    };

    it("when a full rescore runs, then its run row ends finished past the last lead", async () => {
      const r = await rescoreAll(t.database.db, { now: NOW, cause: "decay", chunk: 3 });
      expect(r.scored).toBe(7);
      const ids = await leadIds();
      const [run] = await execRows<{ after: number; finished: boolean }>(
        t.database.db,
        sql`select after_lead_id::int as after, finished_at is not null as finished from rescore_runs`,
      );
      expect(run).toEqual({ after: ids.at(-1), finished: true });
    });

    it("when a run stopped half-way has an expired claim, then resuming rescores only the leads after it", async () => {
      const ids = await leadIds();
      await addRun(ids[3] ?? 0, "2000-01-01T00:00:00Z");
      const s = createServices({ database: t.database, logger: silentLogger, clock: () => NOW });
      const r = await s.resumeRescores({ lapsedOnly: true });
      expect(r.runs.map((x) => x.scored)).toEqual([3]);
      expect(await openRescoreRuns(t.database.db)).toEqual([]);
    });

    it("when another instance still holds a run, then resuming leaves it unless claims are ignored", async () => {
      await addRun(0, "2999-01-01T00:00:00Z");
      expect((await resumeRescores(t.database.db, NOW)).runs).toEqual([]);
      // The app's look every minute takes lapsed runs only, on PGlite as on Postgres.
      const s = createServices({ database: t.database, logger: silentLogger, clock: () => NOW });
      expect((await s.resumeRescores({ lapsedOnly: true })).runs).toEqual([]);
      expect(await openRescoreRuns(t.database.db)).toHaveLength(1);
      const r = await resumeRescores(t.database.db, NOW, { ignoreClaims: true });
      expect(r.runs.map((x) => x.scored)).toEqual([7]);
      expect(await openRescoreRuns(t.database.db)).toEqual([]);
    });

    describe("an approved change of the model", () => {
      const ADMIN = "U0ADMIN01";
      const services = () =>
        createServices({
          database: t.database,
          logger: silentLogger,
          clock: () => NOW,
          admins: [ADMIN],
        });
      /** Every lead with a demo request scored, and a pending change of its points. */
      const proposeChange = async () => {
        const s = services();
        await s.recordEvents(
          Array.from({ length: 7 }, (_, i) => ({
            id: `demo-${i}`,
            email: `p${i}@acme.com`,
            type: "demo_request",
            occurredAt: NOW - 3_600_000,
          })),
        );
        await s.scoring.flush();
        const { proposal } = await s.proposals.create({
          change: { kind: "weights", weights: { demo_request: 45 } },
          by: "U0REP0001",
        });
        return { s, proposal };
      };
      const versions = () =>
        execRows<{ version: number; n: number }>(
          t.database.db,
          sql`select model_version::int as version, count(*)::int as n from lead_scores
            group by model_version order by model_version`,
        );
      /** Approves while every insert into `table` fails, and expects the approval to fail. */
      const approveFailing = async (s: ReturnType<typeof services>, id: number, table: string) => {
        const db = t.database.db;
        await db.execute(
          sql.raw(`create function fail_test() returns trigger language plpgsql as $$
            begin raise exception 'insert failure for the test'; end $$`),
        );
        await db.execute(
          sql.raw(`create trigger fail_test before insert on ${table}
            for each row execute function fail_test()`),
        );
        try {
          const failed = await s.proposals.decide({ id, by: ADMIN, decision: "approve" }).then(
            () => undefined,
            (err: Error & { cause?: Error }) => err,
          );
          expect(String(failed?.cause?.message ?? failed?.message)).toMatch(
            /insert failure for the test/,
          );
        } finally {
          await db.execute(sql.raw(`drop trigger fail_test on ${table}`));
          await db.execute(sql.raw("drop function fail_test()"));
        }
      };

      it("when its rescore run cannot be recorded, then the approval does not take effect", async () => {
        const { s, proposal } = await proposeChange();
        const before = await s.models.active();
        await approveFailing(s, proposal.id, "rescore_runs");
        expect((await s.models.active()).version).toBe(before.version);
        expect((await s.proposals.get(proposal.id)).status).toBe("pending");
      });

      it("when the process fails after the approval, before the scores follow, then the run is left open and resuming brings every lead to the new version", async () => {
        const { s, proposal } = await proposeChange();
        await approveFailing(s, proposal.id, "score_history");
        const active = await s.models.active();
        expect((await s.proposals.get(proposal.id)).status).toBe("approved");
        expect(await openRescoreRuns(t.database.db)).toHaveLength(1);
        expect((await versions()).map((v) => v.version)).not.toContain(active.version);
        // The failed walker's claim has not lapsed: a look for lapsed runs leaves it...
        expect((await s.resumeRescores({ lapsedOnly: true })).runs).toEqual([]);
        // ...and the next start (or the look once it lapses) finishes it.
        const resumed = await resumeRescores(t.database.db, NOW, { ignoreClaims: true });
        expect(resumed.runs).toHaveLength(1);
        expect(await openRescoreRuns(t.database.db)).toEqual([]);
        expect(await versions()).toEqual([{ version: active.version, n: 7 }]);
        // The scores are the new version's: a full rescore changes none of them.
        expect((await rescoreAll(t.database.db, { now: NOW, cause: "decay" })).changed).toBe(0);
      });
    });
  });
}

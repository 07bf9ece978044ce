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
      const r = await resumeRescores(t.database.db, NOW, { chunk: 2 });
      expect(r.runs.map((x) => x.scored)).toEqual([3]);
      expect(await openRescoreRuns(t.database.db)).toEqual([]);
    });

    it("when another instance still holds a run, then resuming leaves it unless claims are ignored", async () => {
      await addRun(0, "2999-01-01T00:00:00Z");
      expect((await resumeRescores(t.database.db, NOW)).runs).toEqual([]);
      expect(await openRescoreRuns(t.database.db)).toHaveLength(1);
      const r = await resumeRescores(t.database.db, NOW, { ignoreClaims: true });
      expect(r.runs.map((x) => x.scored)).toEqual([7]);
      expect(await openRescoreRuns(t.database.db)).toEqual([]);
    });
  });
}

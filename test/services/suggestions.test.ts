import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRows } from "../../src/db/client.js";
import { loadDemoData } from "../../src/demo/index.js";
import { runTick } from "../../src/jobs/scheduler.js";
import { suggestJob } from "../../src/jobs/suggest.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { ensureModel } from "../../src/services/models.js";
import {
  beatsByMargin,
  LEADBOT_ACTOR,
  SUGGEST_MARGIN,
  summarizeBacktest,
} from "../../src/services/suggestions.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";

const ADMIN = "U0ADMIN01";
const NOW = Date.parse("2026-11-20T12:00:00Z");
/** Large enough that the demo yields well over the 30 won and 30 lost a suggestion needs. */
const DEMO_LEADS = 6_000;

/** True drivers of conversion as the demo generator's header states them. */
const SENIORITY = /^title_(vp|director|c_level|chief)/;
const STATED_DRIVERS =
  /^title_|^department_|demo_request|pricing|meeting_booked|trial_start|email_click|^industry_|^employees_|^size_|^source_|^country_/;
/** Fields the header says carry no signal. */
const NO_SIGNAL = /first_?name|last_?name|company|external|campaign|asset/;

for (const config of testDatabases()) {
  describe(`suggestions service (${config.name})`, () => {
    let t: TestDatabase;
    let services: Services;
    beforeAll(async () => {
      t = await withDatabase(config);
      await ensureModel(t.database.db);
      services = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => NOW,
        admins: [ADMIN],
      });
      await loadDemoData(services, { seed: 1, leads: DEMO_LEADS });
    }, 400_000);
    afterAll(async () => t?.cleanup());

    it("when the demo data is fitted, then the true drivers lead the rules and the held-out AUC beats the default model's", async () => {
      const r = await services.suggestions.suggest({ by: "U0MANAGER1", dryRun: true });
      if (!r.ok) throw new Error(r.message);
      const ids = r.learned.evidence.map((e) => e.ruleId);
      expect(ids[0]).toMatch(SENIORITY);
      const top = ids.slice(0, 6);
      expect(top.filter((id) => STATED_DRIVERS.test(id)).length).toBeGreaterThanOrEqual(4);
      expect(top.filter((id) => NO_SIGNAL.test(id))).toEqual([]);
      expect(r.learned.evidence.length).toBeLessThanOrEqual(25);
      const { current, suggested } = r.learned.backtest;
      expect(suggested.auc).not.toBeNull();
      expect(suggested.auc as number).toBeGreaterThan(current.auc as number);
      expect(r.proposal).toBeUndefined();
      expect((await services.proposals.pending()).length).toBe(0);
    }, 120_000);

    it("when its evidence cannot be stored, then no proposal is left for the announcer to post without it", async () => {
      const db = t.database.db;
      const audits = async () =>
        (await execRows<{ n: number }>(db, sql`select count(*)::int as n from audit_log`))[0]?.n;
      const auditsBefore = await audits();
      await db.execute(
        sql.raw(`create function fail_suggestion() returns trigger language plpgsql as $$
          begin raise exception 'suggestion store failure for the test'; end $$`),
      );
      await db.execute(
        sql.raw(`create trigger fail_suggestion before insert on suggestions
          for each row execute function fail_suggestion()`),
      );
      try {
        const failed = await services.suggestions.suggest({ by: "U0MANAGER1" }).then(
          () => undefined,
          (err: Error & { cause?: Error }) => err,
        );
        expect(String(failed?.cause?.message ?? failed?.message)).toMatch(
          /suggestion store failure for the test/,
        );
      } finally {
        await db.execute(sql.raw("drop trigger fail_suggestion on suggestions"));
        await db.execute(sql.raw("drop function fail_suggestion()"));
      }
      expect(await services.proposals.pending()).toEqual([]);
      expect(await audits()).toBe(auditsBefore);
    }, 120_000);

    it("when a suggestion is made, then it is a pending whole-model proposal with its backtest as the reason and its evidence kept", async () => {
      const r = await services.suggestions.suggest({ by: "U0MANAGER1" });
      if (!r.ok || !r.proposal) throw new Error("no proposal");
      expect(r.proposal).toMatchObject({
        kind: "model",
        status: "pending",
        proposedBy: "U0MANAGER1",
      });
      expect(r.proposal.note).toBe(summarizeBacktest(r.learned));
      expect(r.proposal.note).toMatch(/AUC 0\.\d{3} suggested vs 0\.\d{3} current/);
      const kept = await services.suggestions.learned(r.proposal.id);
      expect(kept?.backtest).toEqual(r.learned.backtest);
      expect(kept?.evidence.map((e) => e.ruleId)).toEqual(r.learned.evidence.map((e) => e.ruleId));
      expect(r.preview?.changes.length).toBeGreaterThan(0);
    }, 120_000);

    it("when a suggestion is already pending, then the weekly job proposes nothing", async () => {
      const before = (await services.proposals.pending()).length;
      const w = await services.suggestions.weekly();
      expect(w.proposed).toBe(false);
      expect(w.reason).toMatch(/still waiting for a decision/);
      expect((await services.proposals.pending()).length).toBe(before);
    }, 120_000);

    it("when none is pending, then the weekly job proposes, once per tick, only what beats the current AUC by the margin, and announces it", async () => {
      for (const p of await services.proposals.pending()) {
        await services.proposals.decide({ id: p.id, by: ADMIN, decision: "reject" });
      }
      const unreachable = await services.suggestions.weekly(1);
      expect(unreachable.proposed).toBe(false);
      expect(unreachable.reason).toMatch(/does not beat the current/);
      expect((await services.proposals.pending()).length).toBe(0);

      const announced: number[] = [];
      const job = suggestJob(services, {
        schedule: "0 6 * * 1",
        announce: async (id) => {
          announced.push(id);
        },
      });
      const tick = new Date(NOW);
      expect(await runTick(services.jobs, job, tick, "instance-a", silentLogger)).toBe(true);
      // Another instance on the same tick runs nothing.
      expect(await runTick(services.jobs, job, tick, "instance-b", silentLogger)).toBe(false);
      const pending = await services.proposals.pending();
      expect(pending).toHaveLength(1);
      expect(pending[0]?.proposedBy).toBe(LEADBOT_ACTOR);
      expect(announced).toEqual([pending[0]?.id]);
      const learned = await services.suggestions.learned(pending[0]?.id as number);
      expect(beatsByMargin(learned?.backtest as never, SUGGEST_MARGIN)).toBe(true);
      const { current, suggested } = learned?.backtest ?? {
        current: { auc: 0 },
        suggested: { auc: 0 },
      };
      expect((suggested.auc as number) - (current.auc as number)).toBeGreaterThanOrEqual(
        SUGGEST_MARGIN,
      );
    }, 240_000);

    it("when there are too few outcomes, then it says how many won and lost it needs and has", async () => {
      await truncateAll(t.database.db);
      await ensureModel(t.database.db);
      await loadDemoData(services, { seed: 5, leads: 120 });
      const r = await services.suggestions.suggest({ by: "U0MANAGER1" });
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.code).toBe("not_enough_data");
      expect(r.message).toMatch(/needs 30 won and 30 lost or not a fit; there are \d+ and \d+/);
      expect(r.need.have.won).toBeLessThan(30);
      expect((await services.proposals.pending()).length).toBe(0);
    }, 120_000);
  });
}

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { MAX_BATCH_ITEMS } from "../../src/services/ingest.js";
import { ensureModel } from "../../src/services/models.js";
import { testDatabases, truncateAll, withDatabase } from "../support/db.js";

const TOKEN = "bootstrap-token-for-outcome-tests";
const DAY = 86_400_000;
/** A whole second, so times survive the round trip through timestamptz exactly. */
const NOW = Math.floor(Date.now() / 1000) * 1000;
const T0 = NOW - 20 * DAY;
const T1 = NOW - 10 * DAY;

const hot = { title: "VP Sales", industry: "Software", employees: 900, country: "US" };
const mid = { title: "Engineer", industry: "Software", employees: 60, country: "US" };
const cold = { title: "Student", industry: "Education", employees: 3, country: "FR" };

interface StatsBody {
  period: { name: string };
  auc: Record<string, number>;
  outcomes: Record<string, number>;
  bands: { band: number; leads: number; won: number; minScore: number; maxScore: number }[];
  topDecileLift: number;
  funnel: { count: number }[];
  medianDaysMqlToWon: number;
  lostReasons: unknown[];
  awaitingOutcome: number;
  grades: { matrix: string; leads: number; won: number }[];
}

for (const config of testDatabases()) {
  describe(`outcomes and stats API on ${config.name}`, () => {
    let app: Leadbot;
    let base: string;
    let cleanup: () => Promise<void>;
    let now = T0;

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    /** Posts events and waits until they are scored, as the checks after it read scores. */
    const events = async (email: string, types: string[], at: number) => {
      const res = await call("POST", "/api/v1/events", {
        events: types.map((type, i) => ({
          id: `${email}-${type}-${at}-${i}`,
          email,
          type,
          occurredAt: new Date(at).toISOString(),
        })),
      });
      await app.services.scoring.flush();
      return res;
    };

    const alertsOf = async (email: string) =>
      (
        await execRows<{ n: number }>(
          app.database.db,
          sql`select count(*)::int as n from alert_outbox o join leads l on l.id = o.lead_id
              where l.email = ${email}`,
        )
      )[0]?.n;

    /**
     * Six leads at T0: a (SQL) and b (MQL) are won at T1, c lost (no budget) and d not a fit,
     * e reached MQL and waits, f is cold. After the outcomes c's score rises above everyone's.
     */
    async function seed() {
      now = T0;
      const leads = [
        { email: "a@acme.com", ...hot },
        { email: "b@acme.com", ...hot },
        { email: "c@school.edu", ...mid },
        { email: "d@school.edu", ...mid },
        { email: "e@acme.com", ...hot },
        { email: "f@school.edu", ...cold },
      ];
      expect((await call("POST", "/api/v1/leads", { leads })).status).toBe(200);
      await events("a@acme.com", ["demo_request", "meeting_booked", "trial_start"], T0);
      await events("b@acme.com", ["demo_request"], T0);
      await events("e@acme.com", ["demo_request"], T0);
      now = T1;
      const r = await call("POST", "/api/v1/outcomes", {
        outcomes: [
          { lead: "a@acme.com", outcome: "won" },
          { lead: "b@acme.com", outcome: "won", at: new Date(T1).toISOString() },
          { lead: "c@school.edu", outcome: "lost", reason: "no_budget" },
          { lead: "d@school.edu", outcome: "not_a_fit", note: "a student" },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.recorded).toBe(4);
    }

    beforeAll(async () => {
      const opened = await withDatabase(config);
      cleanup = opened.cleanup;
      app = await startLeadbot({
        env: loadEnv({
          PORT: "0",
          LEADBOT_API_TOKEN: TOKEN,
          LEADBOT_DEMO: "off",
          LEADBOT_DECAY_CRON: "off",
        }),
        logger: silentLogger,
        clock: () => now,
        database: opened.database,
      });
      base = `http://127.0.0.1:${app.port}`;
    });

    beforeEach(async () => {
      await truncateAll(app.database.db);
      await ensureModel(app.database.db);
      await seed();
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    it("when the same outcomes are sent again, then each is reported as a duplicate and stored once", async () => {
      const again = await call("POST", "/api/v1/outcomes", {
        outcomes: [
          { lead: "b@acme.com", outcome: "won", at: new Date(T1).toISOString() },
          { lead: "b@acme.com", outcome: "won", at: T1 },
        ],
      });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ recorded: 0, duplicates: 2, errors: [] });
      const rows = await execRows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from outcomes o join leads l on l.id = o.lead_id
            where l.email = 'b@acme.com'`,
      );
      expect(rows[0]?.n).toBe(1);
      const audit = await execRows<{ details: { source: string; at: string } }>(
        app.database.db,
        sql`select details from audit_log where action = 'lead.won' order by id`,
      );
      expect(audit.map((a) => a.details.source)).toEqual(["api", "api"]);
      expect(audit[1]?.details.at).toBe(new Date(T1).toISOString());
    });

    it("when some items are invalid, then the valid ones are stored and each bad one comes back with index, field and reason", async () => {
      const r = await call("POST", "/api/v1/outcomes", {
        outcomes: [
          { lead: "nobody@nowhere.com", outcome: "won" },
          { lead: "e@acme.com", outcome: "maybe" },
          { lead: "e@acme.com", outcome: "lost", at: "yesterday-ish" },
          "not an object",
          { lead: "id:999999", outcome: "won" },
          { lead: "e@acme.com", outcome: "lost", reason: "chose_competitor" },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.recorded).toBe(1);
      const errors = r.body.errors as { index: number; field: string; reason: string }[];
      expect(errors.map((e) => [e.index, e.field])).toEqual([
        [0, "lead"],
        [1, "outcome"],
        [2, "at"],
        [3, "(item)"],
        [4, "lead"],
      ]);
      expect(errors[0]?.reason).toContain("nobody@nowhere.com");
      expect(errors[1]?.reason).toContain("won, lost, not_a_fit or reopen");
    });

    it("when every item is invalid, the body is the wrong shape or the batch is too long, then 422, 400 and 413", async () => {
      const none = await call("POST", "/api/v1/outcomes", {
        outcomes: [{ lead: "", outcome: "won" }, { outcome: "lost" }],
      });
      expect(none.status).toBe(422);
      expect((none.body.errors as unknown[]).length).toBe(2);
      expect((await call("POST", "/api/v1/outcomes", { outcome: [] })).status).toBe(400);
      const big = Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({
        lead: "a@acme.com",
        outcome: "won",
      }));
      const tooMany = await call("POST", "/api/v1/outcomes", { outcomes: big });
      expect(tooMany.status).toBe(413);
      expect(String(tooMany.body.message)).toContain(String(MAX_BATCH_ITEMS));
    });

    it("when a closed lead crosses a threshold, then the crossing is recorded without an alert until it is reopened", async () => {
      now = T1 + DAY;
      const shown = await call("GET", "/api/v1/leads/d@school.edu");
      expect(shown.body.closed).toMatchObject({
        outcome: "not_a_fit",
        by: expect.stringMatching(/^api/),
      });
      await events("d@school.edu", ["demo_request", "meeting_booked"], now);
      const d = await call("GET", "/api/v1/leads/d@school.edu");
      expect(d.body.stage).not.toBe("lead");
      expect((d.body.transitions as unknown[]).length).toBeGreaterThan(0);
      expect(await alertsOf("d@school.edu")).toBe(0);
      // c was lost, which does not close a lead: its crossing is alerted.
      await events(
        "c@school.edu",
        ["demo_request", "meeting_booked", "trial_start", "webinar_attend"],
        now,
      );
      expect(await alertsOf("c@school.edu")).toBeGreaterThan(0);

      now = T1 + 2 * DAY;
      const reopen = await call("POST", "/api/v1/outcomes", {
        outcomes: [
          { lead: "d@school.edu", outcome: "reopen" },
          { lead: "f@school.edu", outcome: "reopen" },
        ],
      });
      expect(reopen.body).toMatchObject({ reopened: 1, unchanged: 1 });
      expect((await call("GET", "/api/v1/leads/d@school.edu")).body.closed).toBeNull();
      // Reopened, its next crossing (MQL to SQL) is alerted again.
      await events("d@school.edu", ["trial_start"], now);
      const after = await call("GET", "/api/v1/leads/d@school.edu");
      expect(after.body.stage).toBe("sql");
      expect(await alertsOf("d@school.edu")).toBe(1);
    });

    it("when stats are asked for, then the numbers match the hand-computed ones and use the score at the time of the outcome", async () => {
      const at = async (email: string) => (await call("GET", `/api/v1/leads/${email}`)).body;
      const before = Object.fromEntries(
        await Promise.all(
          ["a", "b", "c", "d"].map(async (k) => [
            k,
            await at(`${k}@${k < "c" ? "acme.com" : "school.edu"}`),
          ]),
        ),
      ) as Record<string, { score: number; matrix: string }>;
      const stored = Object.fromEntries(
        (
          await execRows<{ email: string; total: number }>(
            app.database.db,
            sql`select l.email, s.total from lead_scores s join leads l on l.id = s.lead_id`,
          )
        ).map((r) => [r.email.split("@")[0], Number(r.total)]),
      );
      // Today lost c outscores won b: a metric on today's score would misorder that pair.
      now = NOW;
      await events(
        "c@school.edu",
        ["demo_request", "meeting_booked", "trial_start", "webinar_attend"],
        now,
      );
      expect((await at("c@school.edu")).score as number).toBeGreaterThan(before.b?.score ?? 0);

      const r = await call("GET", "/api/v1/stats?period=30d");
      expect(r.status).toBe(200);
      const s = r.body as unknown as StatsBody;
      expect(s.period.name).toBe("30d");
      // won {a, b} both above not won {c, d} at the time: every pair ordered, AUC 1, no spread.
      expect(s.auc).toMatchObject({ value: 1, low: 1, high: 1, won: 2, notWon: 2 });
      expect(s.outcomes).toEqual({ won: 2, lost: 1, notAFit: 1 });
      // Deciles of 4 by rank: a in band 1, b in band 3, c and d (tied) share band 6.
      expect(s.bands.map((b) => [b.band, b.leads, b.won])).toEqual([
        [1, 1, 1],
        [3, 1, 1],
        [6, 2, 0],
      ]);
      // The bands hold the scores stored when the outcomes were recorded (a GET answers as of now,
      // decayed since).
      expect(s.bands[0]?.minScore).toBe(stored.a);
      expect(s.bands[2]?.maxScore).toBe(stored.c);
      // Top decile converts 1/1 against 2/4 overall.
      expect(s.topDecileLift).toBe(2);
      // Reached MQL: a, b, e and c (today); SQL: a and c; won: a and b.
      expect(s.funnel.map((f) => f.count)).toEqual([6, 4, 2, 2]);
      expect(s.medianDaysMqlToWon).toBe(10);
      expect(s.lostReasons).toEqual([{ reason: "no_budget", count: 1 }]);
      expect(s.awaitingOutcome).toBe(1);
      const cellOf = (m: string) => s.grades.find((g) => g.matrix === m);
      expect(cellOf(before.a?.matrix ?? "")?.won).toBeGreaterThanOrEqual(1);
      expect(s.grades.reduce((n, g) => n + g.leads, 0)).toBe(4);

      const bad = await call("GET", "/api/v1/stats?period=7y");
      expect(bad.status).toBe(400);
      expect(String(bad.body.message)).toContain("30d, 90d, all");
    });
  });
}

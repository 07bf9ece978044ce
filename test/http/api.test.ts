import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createToken } from "../../src/services/tokens.js";
import { testDatabases, withDatabase } from "../support/db.js";

const TOKEN = "bootstrap-token-for-tests-0001";
const NOW = Date.parse("2026-11-20T12:00:00Z");
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString();

for (const config of testDatabases()) {
  describe(`ingest API on ${config.name}`, () => {
    let app: Leadbot;
    let base: string;
    let cleanup: () => Promise<void>;

    const call = async (
      method: string,
      path: string,
      body?: unknown,
      token: string | null = TOKEN,
    ) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body:
          body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        json = { text };
      }
      return { status: res.status, body: json };
    };

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
        clock: () => NOW,
        database: opened.database,
      });
      base = `http://127.0.0.1:${app.port}`;
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    it("when no or a wrong token is sent, then it answers 401 and says how to get one", async () => {
      const none = await call("GET", "/api/v1/leads", undefined, null);
      expect(none.status).toBe(401);
      expect(String(none.body.message)).toContain("Bearer");
      const wrong = await call("GET", "/api/v1/leads", undefined, "nope-nope-nope-nope");
      expect(wrong.status).toBe(401);
    });

    it("when a token is created with the CLI service, then it works until revoked", async () => {
      const t = await createToken(app.database.db, "crm", "test", ["read"]);
      expect((await call("GET", "/api/v1/leads?top=1", undefined, t.token)).status).toBe(200);
    });

    it("when leads are upserted, then valid ones are stored and invalid ones come back with index, field and reason", async () => {
      const res = await call("POST", "/api/v1/leads", {
        leads: [
          {
            email: "Jane@Acme.com",
            firstName: "Jane",
            lastName: "Doe",
            title: "VP of Sales",
            company: "Acme",
            industry: "Software",
            employees: 800,
            country: "US",
          },
          { email: "not-an-email" },
          { firstName: "Nobody" },
          { externalId: "crm-42", title: "Student", employees: -3 },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(1);
      expect(res.body.errors).toEqual([
        { index: 1, field: "email", reason: "must be an email address such as jane@acme.com" },
        { index: 2, field: "email", reason: "a lead needs an email or an externalId" },
        { index: 3, field: "employees", reason: "employees must not be negative" },
      ]);
      const lead = await call("GET", "/api/v1/leads/jane@acme.com");
      expect(lead.status).toBe(200);
      expect(lead.body).toMatchObject({
        email: "jane@acme.com",
        title: "VP of Sales",
        stage: "lead",
      });
      expect(Number(lead.body.fit)).toBeGreaterThan(0);
    });

    it("when an upsert omits a field, then the stored value stays; null clears it", async () => {
      await call("POST", "/api/v1/leads", {
        leads: [{ email: "jane@acme.com", company: "Acme Inc", country: null }],
      });
      const lead = await call("GET", "/api/v1/leads/jane@acme.com");
      expect(lead.body).toMatchObject({ title: "VP of Sales", company: "Acme Inc", country: null });
    });

    it("when events arrive, then scores update with reasons, and a repeated id is stored once", async () => {
      const events = [
        {
          id: "ev-1",
          email: "jane@acme.com",
          type: "page_view",
          occurredAt: daysAgo(1),
          properties: { url: "https://acme.io/pricing" },
        },
        { id: "ev-2", email: "jane@acme.com", type: "Demo Request", occurredAt: daysAgo(1) },
        { id: "ev-3", email: "jane@acme.com", type: "meeting_booked", occurredAt: daysAgo(0.5) },
      ];
      const first = await call("POST", "/api/v1/events", { events });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        accepted: 3,
        duplicates: 0,
        errors: [],
        scoring: "pending",
      });
      const again = await call("POST", "/api/v1/events", { events });
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 3 });
      const [count] = await execRows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from events`,
      );
      expect(count?.n).toBe(3);

      const lead = await call("GET", "/api/v1/leads/jane@acme.com?wait=1");
      expect(lead.body.scoring).toBe("current");
      const breakdown = lead.body.breakdown as { ruleId: string; points: number }[];
      const sum = breakdown.reduce((s, b) => s + b.points, 0);
      expect(sum).toBeCloseTo(Number(lead.body.score), 6);
      expect(breakdown.some((b) => b.ruleId.includes("demo"))).toBe(true);
      expect(lead.body.stage).not.toBe("lead");
      expect((lead.body.history as unknown[]).length).toBeGreaterThan(0);
    });

    it("when a lead crosses MQL or SQL, then exactly one transition and one alert are queued per crossing", async () => {
      const rows = await execRows<{ to_stage: string; alerts: number }>(
        app.database.db,
        sql`select t.to_stage, (select count(*)::int from alert_outbox o where o.transition_id = t.id) as alerts
            from stage_transitions t join leads l on l.id = t.lead_id where l.email = 'jane@acme.com'`,
      );
      expect(rows.length).toBe(1);
      expect(rows[0]?.alerts).toBe(1);
    });

    it("when an event names an unknown email, then the lead is created; an unknown leadId is an item error", async () => {
      const res = await call("POST", "/api/v1/events", {
        events: [
          { id: "ev-new-1", email: "new@globex.com", type: "email_open", occurredAt: daysAgo(2) },
          { id: "ev-new-2", leadId: 999999, type: "email_open", occurredAt: daysAgo(2) },
          { id: "ev-new-3", email: "new@globex.com", type: "email_open", occurredAt: 1_700_000 },
          { id: "ev-new-4", email: "new@globex.com", type: "email_open", occurredAt: "yesterday" },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 1, leadsCreated: 1 });
      expect(
        (res.body.errors as { index: number; field: string }[]).map((e) => [e.index, e.field]),
      ).toEqual([
        [1, "leadId"],
        [2, "occurredAt"],
        [3, "occurredAt"],
      ]);
    });

    it("when every item is invalid, then the batch is a 422; a malformed body is a 400; a wrong type a 415", async () => {
      expect((await call("POST", "/api/v1/events", { events: [{ id: "x" }] })).status).toBe(422);
      expect((await call("POST", "/api/v1/events", { nope: [] })).status).toBe(400);
      expect((await call("POST", "/api/v1/events", "{not json")).status).toBe(400);
      const res = await fetch(`${base}/api/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/plain" },
        body: "hello",
      });
      expect(res.status).toBe(415);
    });

    it("when the body is larger than the limit, then it answers 413", async () => {
      const big = JSON.stringify({
        events: [
          {
            id: "x",
            email: "a@b.co",
            type: "x",
            occurredAt: daysAgo(1),
            properties: { pad: "x".repeat(17 * 1024 * 1024) },
          },
        ],
      });
      const res = await fetch(`${base}/api/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: big,
      });
      expect(res.status).toBe(413);
    });

    it("when Segment identify, track and page calls arrive in a batch, then they map to leads and events", async () => {
      const res = await call("POST", "/api/v1/segment", {
        batch: [
          {
            type: "identify",
            messageId: "s-1",
            userId: "crm-7",
            traits: {
              email: "max@initech.com",
              name: "Max Power",
              title: "Head of Operations",
              company: { name: "Initech", employee_count: 300, industry: "Software" },
              plan: "pro",
            },
          },
          {
            type: "track",
            messageId: "s-2",
            userId: "crm-7",
            event: "Demo Requested",
            timestamp: daysAgo(1),
            context: { traits: { email: "max@initech.com" } },
          },
          {
            type: "page",
            messageId: "s-3",
            userId: "crm-7",
            name: "Pricing",
            timestamp: daysAgo(1),
            context: {
              traits: { email: "max@initech.com" },
              page: { url: "https://initech.com/pricing" },
            },
          },
          { type: "alias", messageId: "s-4" },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ leads: 1, events: 2 });
      expect((res.body.errors as { index: number }[]).map((e) => e.index)).toEqual([3]);
      const lead = await call("GET", "/api/v1/leads/max@initech.com");
      expect(lead.body).toMatchObject({
        firstName: "Max",
        lastName: "Power",
        company: "Initech",
        employees: 300,
        externalId: "crm-7",
      });
      expect(lead.body.attributes).toMatchObject({ plan: "pro" });
      const [types] = await execRows<{ types: string[] }>(
        app.database.db,
        sql`select array_agg(type order by type) as types from events where id in ('s-2', 's-3')`,
      );
      expect(types?.types).toEqual(["demo_request", "page_view"]);
    });

    it("when the top leads are asked for, then they come ordered by score, filtered by stage", async () => {
      const all = await call("GET", "/api/v1/leads?top=5");
      const scores = (all.body.leads as { score: number }[]).map((l) => l.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      const mql = await call("GET", "/api/v1/leads?top=5&stage=mql");
      expect((mql.body.leads as { stage: string }[]).every((l) => l.stage === "mql")).toBe(true);
      expect((await call("GET", "/api/v1/leads?top=0")).status).toBe(400);
      expect((await call("GET", "/api/v1/leads?stage=hot")).status).toBe(400);
    });

    it("when a lead is erased, then it and its events are gone and a second erase is a 404", async () => {
      const res = await call("DELETE", "/api/v1/leads/max@initech.com");
      expect(res.status).toBe(200);
      expect((await call("GET", "/api/v1/leads/max@initech.com")).status).toBe(404);
      const [left] = await execRows<{ n: number }>(
        app.database.db,
        sql`select count(*)::int as n from events where id in ('s-2', 's-3')`,
      );
      expect(left?.n).toBe(0);
      expect((await call("DELETE", "/api/v1/leads/max@initech.com")).status).toBe(404);
    });

    it("when health and metrics are scraped, then they answer without a token", async () => {
      const health = await call("GET", "/healthz", undefined, null);
      expect(health).toMatchObject({ status: 200, body: { ok: true } });
      const metrics = await fetch(`${base}/metrics`);
      const text = await metrics.text();
      expect(text).toContain("leadbot_ingested_items_total");
      expect(text).toMatch(/leadbot_leads\{stage="mql"\} \d+/);
      // The app's scorer has looked for accepted events, and found the ones sent above.
      expect(text).toMatch(/leadbot_scorer_looks_total\{result="found"\} [1-9]\d*/);
      expect(text).toMatch(/leadbot_scorer_looks_total\{result="empty"\} \d+/);
    });
  });
}

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { type Database, execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { MAX_BATCH_ITEMS } from "../../src/services/ingest.js";
import { MAX_BAG_BYTES, MAX_EMAIL } from "../../src/services/inputs.js";
import { testDatabases, withDatabase } from "../support/db.js";

const TOKEN = "status-codes-token-000000000001";
const NOW = Date.parse("2026-11-20T12:00:00Z");
const AT = new Date(NOW - 3_600_000).toISOString();

for (const config of testDatabases()) {
  describe(`status codes of the ingest API on ${config.name}`, () => {
    let app: Leadbot;
    let database: Database;
    let cleanup: () => Promise<void>;

    const post = async (path: string, body: unknown) => {
      const res = await fetch(`http://127.0.0.1:${app.port}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const count = async (table: "leads" | "events") =>
      (
        await execRows<{ n: number }>(
          database.db,
          sql`select count(*)::int as n from ${sql.identifier(table)}`,
        )
      )[0]?.n ?? 0;

    beforeAll(async () => {
      const opened = await withDatabase(config);
      database = opened.database;
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
        database,
      });
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    it("when a batch has more items than the limit, then it is a 413 with the limit and nothing is stored", async () => {
      const before = await count("events");
      const events = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({
        id: `over-${i}`,
        email: "over@acme.com",
        type: "page_view",
        occurredAt: AT,
      }));
      const res = await post("/api/v1/events", { events });
      expect(res.status).toBe(413);
      expect(res.body.error).toBe("batch_too_large");
      expect(String(res.body.message)).toContain(String(MAX_BATCH_ITEMS));
      expect(res.body.details).toMatchObject({ limit: MAX_BATCH_ITEMS });
      expect(await count("events")).toBe(before);
      const leads = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({
        email: `l${i}@acme.com`,
      }));
      expect((await post("/api/v1/leads", { leads })).status).toBe(413);
      const batch = Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({
        type: "page",
        userId: "x@acme.com",
      }));
      expect((await post("/api/v1/segment", { batch })).status).toBe(413);
    });

    it("when an email is longer than 254 characters, then that item is refused with its field and the rest stored", async () => {
      const long = `${"a".repeat(MAX_EMAIL - 8)}@acme.com`;
      expect(long.length).toBeGreaterThan(MAX_EMAIL);
      const res = await post("/api/v1/leads", {
        leads: [{ email: long }, { email: "fine@acme.com" }],
      });
      expect(res.status).toBe(200);
      expect(res.body.created).toBe(1);
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          index: 0,
          field: "email",
          reason: expect.stringContaining("254"),
        }),
      ]);
    });

    it("when attributes or properties are over the documented size, then the item is refused with its field", async () => {
      const big = { blob: "x".repeat(MAX_BAG_BYTES) };
      const leads = await post("/api/v1/leads", {
        leads: [
          { email: "big@acme.com", attributes: big },
          { email: "bigextra@acme.com", notes: "y".repeat(MAX_BAG_BYTES) },
          { email: "small@acme.com", attributes: { plan: "pro" } },
        ],
      });
      expect(leads.status).toBe(200);
      expect(leads.body.created).toBe(1);
      const errors = leads.body.errors as { index: number; field: string; reason: string }[];
      expect(errors.map((e) => [e.index, e.field])).toEqual([
        [0, "attributes"],
        [1, "attributes"],
      ]);
      expect(errors[0]?.reason).toContain(String(MAX_BAG_BYTES));
      const events = await post("/api/v1/events", {
        events: [
          {
            id: "big-1",
            email: "small@acme.com",
            type: "page_view",
            occurredAt: AT,
            properties: big,
          },
          { id: "ok-1", email: "small@acme.com", type: "page_view", occurredAt: AT },
        ],
      });
      expect(events.status).toBe(200);
      expect(events.body.accepted).toBe(1);
      expect(events.body.errors).toEqual([
        expect.objectContaining({ index: 0, field: "properties" }),
      ]);
    });

    it("when text holds NUL or half a surrogate pair, then the item is refused by field, never a 500", async () => {
      const res = await post("/api/v1/events", {
        events: [
          { id: "nul\u0000", email: "n@acme.com", type: "page_view", occurredAt: AT },
          {
            id: "nul-2",
            email: "n@acme.com",
            type: "page_view",
            occurredAt: AT,
            properties: { url: "/x\ud800" },
          },
          { id: "nul-3", email: "n@acme.com", type: "page_view", occurredAt: AT },
        ],
      });
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(1);
      expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual([
        "id",
        "properties",
      ]);
      const lead = await post("/api/v1/leads", {
        leads: [{ email: "z@acme.com", firstName: "a\u0000" }],
      });
      expect(lead.status).toBe(422);
    });

    it("when the body is not JSON, then 400; when every item is invalid, then 422", async () => {
      expect((await post("/api/v1/events", "{nope")).status).toBe(400);
      expect((await post("/api/v1/events", { events: [{ id: "" }] })).status).toBe(422);
    });
  });
}

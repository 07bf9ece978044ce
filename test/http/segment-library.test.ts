import { Analytics } from "@segment/analytics-node";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { type Database, execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";
import { eventually } from "../support/slack.js";

const WRITE_KEY = "segment-write-key-000000000001";

/**
 * Segment's own Node library, pointed at Leadbot: it sends `{ batch: [...] }` to host + path with
 * the write key as the HTTP Basic user name. What it sends must land as leads and events.
 */
for (const config of testDatabases()) {
  describe(`@segment/analytics-node against the running app on ${config.name}`, () => {
    let app: Leadbot;
    let database: Database;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await withDatabase(config);
      database = opened.database;
      cleanup = opened.cleanup;
      app = await startLeadbot({
        env: loadEnv({
          PORT: "0",
          LEADBOT_API_TOKEN: WRITE_KEY,
          LEADBOT_DEMO: "off",
          LEADBOT_DECAY_CRON: "off",
        }),
        logger: silentLogger,
        database,
      });
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    const client = (writeKey: string) =>
      new Analytics({
        writeKey,
        host: `http://127.0.0.1:${app.port}`,
        path: "/api/v1/segment",
        flushAt: 10,
        flushInterval: 50,
        maxRetries: 0,
      });

    it("when the library identifies, tracks and pages with the write key, then Leadbot stores the lead and its events", async () => {
      const analytics = client(WRITE_KEY);
      const failures: unknown[] = [];
      analytics.on("error", (err) => failures.push(err));
      analytics.identify({
        userId: "jane@segment-lib.example",
        traits: {
          email: "jane@segment-lib.example",
          title: "VP Sales",
          company: { name: "Acme", industry: "Software", employee_count: 800 },
        },
      });
      analytics.track({ userId: "jane@segment-lib.example", event: "Demo Requested" });
      analytics.page({
        userId: "jane@segment-lib.example",
        properties: { url: "https://acme.example/pricing" },
      });
      await analytics.closeAndFlush({ timeout: 10_000 });
      expect(failures).toEqual([]);
      const events = await eventually(async () => {
        const rows = await execRows<{ type: string }>(
          database.db,
          sql`select e.type from events e join leads l on l.id = e.lead_id
              where l.email = 'jane@segment-lib.example' order by e.type`,
        );
        return rows.length === 2 ? rows.map((r) => r.type) : undefined;
      });
      expect(events).toEqual(["demo_request", "page_view"]);
      const [lead] = await execRows<{ title: string; company: string; employees: number }>(
        database.db,
        sql`select title, company, employees from leads where email = 'jane@segment-lib.example'`,
      );
      expect(lead).toEqual({ title: "VP Sales", company: "Acme", employees: 800 });
    });

    it("when the library sends a wrong write key, then Leadbot refuses it and stores nothing", async () => {
      const analytics = client("not-a-known-write-key-0000");
      const failures: unknown[] = [];
      analytics.on("error", (err) => failures.push(err));
      analytics.track({ userId: "mallory@segment-lib.example", event: "Demo Requested" });
      await analytics.closeAndFlush({ timeout: 10_000 });
      expect(failures.length).toBeGreaterThan(0);
      expect(JSON.stringify(failures)).toMatch(/delivery_failure|401|Unauthorized/i);
      const rows = await execRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from leads where email = 'mallory@segment-lib.example'`,
      );
      expect(rows[0]?.n).toBe(0);
    });

    it("when Basic auth is used on a route other than Segment's, then it is refused", async () => {
      const res = await fetch(`http://127.0.0.1:${app.port}/api/v1/leads?top=1`, {
        headers: { authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString("base64")}` },
      });
      expect(res.status).toBe(401);
    });
  });
}

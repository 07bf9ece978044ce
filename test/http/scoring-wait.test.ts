import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { silentLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";

const TOKEN = "scoring-wait-token-for-tests-01";
const NOW = Date.parse("2026-11-20T12:00:00Z");

/**
 * `POST /api/v1/events` answers once the events are stored; `GET /api/v1/leads/:key` says
 * whether the score counts them yet, and `?wait=1` scores them before answering.
 */
for (const config of testDatabases()) {
  describe(`pending scores over HTTP on ${config.name}`, () => {
    let app: Leadbot;
    let base: string;
    let cleanup: () => Promise<void>;

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

    it("when the scorer has not run yet, then the lead says pending, and wait=1 answers with the fresh score", async () => {
      await call("POST", "/api/v1/leads", {
        leads: [{ email: "wait@acme.com", title: "VP Sales", industry: "Software" }],
      });
      // This instance's scorer is stopped, as if it had not come round yet.
      await app.services.scoring.stop();
      const posted = await call("POST", "/api/v1/events", {
        events: ["demo_request", "meeting_booked"].map((type, i) => ({
          id: `wait-${i}`,
          email: "wait@acme.com",
          type,
          occurredAt: new Date(NOW).toISOString(),
        })),
      });
      expect(posted.status).toBe(200);
      expect(posted.body).toMatchObject({ accepted: 2, alerts: 0, scoring: "pending" });

      const before = await call("GET", "/api/v1/leads/wait@acme.com");
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({ scoring: "pending", stage: "lead" });

      const after = await call("GET", "/api/v1/leads/wait@acme.com?wait=1");
      expect(after.status).toBe(200);
      expect(after.body.scoring).toBe("current");
      expect(after.body.stage).toBe("sql");
      expect((after.body.breakdown as { ruleId: string }[]).map((b) => b.ruleId)).toEqual(
        expect.arrayContaining(["demo_request", "meeting_booked"]),
      );
      // Scored once: the crossing is one alert, and a later look changes nothing.
      expect(await app.services.alerts.pendingCount()).toBe(1);
      await app.services.scoring.flush();
      expect(await app.services.alerts.pendingCount()).toBe(1);
      expect((await call("GET", "/api/v1/leads/wait@acme.com")).body.scoring).toBe("current");
    });

    it("when wait is not 0 or 1, then it is a 400 that says so", async () => {
      const res = await call("GET", "/api/v1/leads/wait@acme.com?wait=yes");
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toContain("wait");
    });
  });
}

import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";

const BOOTSTRAP = "bootstrap-token-for-scope-tests-1";
const START = Date.parse("2026-11-20T12:00:00Z");

for (const config of testDatabases()) {
  describe(`scoped API tokens on ${config.name}`, () => {
    let app: Leadbot;
    let base: string;
    let cleanup: () => Promise<void>;
    let now = START;
    const tokens: Record<string, { id: number; token: string }> = {};

    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const lastUsed = async (id: number) => {
      const [row] = await execRows<{ at: string | Date | null }>(
        app.database.db,
        sql`select last_used_at as at from api_tokens where id = ${id}`,
      );
      return row?.at ? new Date(row.at).getTime() : null;
    };

    beforeAll(async () => {
      const opened = await withDatabase(config);
      cleanup = opened.cleanup;
      app = await startLeadbot({
        env: loadEnv({
          PORT: "0",
          LEADBOT_API_TOKEN: BOOTSTRAP,
          LEADBOT_DEMO: "off",
          LEADBOT_DECAY_CRON: "off",
        }),
        logger: silentLogger,
        clock: () => now,
        database: opened.database,
      });
      base = `http://127.0.0.1:${app.port}`;
      const make = async (name: string, scopes?: ("ingest" | "read" | "admin")[]) => {
        const t = await app.services.tokens.create(name, "test", scopes);
        tokens[name] = { id: t.id as number, token: t.token };
      };
      await make("tracking");
      await make("dashboard", ["read"]);
      await make("crm", ["ingest", "read"]);
      await make("ops", ["admin"]);
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    const tok = (name: string) => tokens[name]?.token as string;

    it("when a token is made without scopes, then it may ingest and nothing else, and the 403 names the scope needed", async () => {
      const posted = await call("POST", "/api/v1/leads", tok("tracking"), {
        leads: [{ email: "ada@scopes.example", firstName: "Ada" }],
      });
      expect(posted.status).toBe(200);
      const read = await call("GET", "/api/v1/leads/ada@scopes.example", tok("tracking"));
      expect(read.status).toBe(403);
      expect(read.body.error).toBe("insufficient_scope");
      expect(String(read.body.message)).toContain("needs a token with the read scope");
      const top = await call("GET", "/api/v1/leads?top=5", tok("tracking"));
      expect(top.status).toBe(403);
      const erase = await call("DELETE", "/api/v1/leads/ada@scopes.example", tok("tracking"));
      expect(erase.status).toBe(403);
      expect(String(erase.body.message)).toContain("the admin scope");
    });

    it("when a token holds only read, then GET routes answer and ingest and erasure are refused", async () => {
      expect((await call("GET", "/api/v1/leads/ada@scopes.example", tok("dashboard"))).status).toBe(
        200,
      );
      const post = await call("POST", "/api/v1/events", tok("dashboard"), { events: [] });
      expect(post.status).toBe(403);
      expect(String(post.body.message)).toContain("the ingest scope");
      expect(
        (await call("DELETE", "/api/v1/leads/ada@scopes.example", tok("dashboard"))).status,
      ).toBe(403);
    });

    it("when a token holds ingest and read, then it may do both but not erase", async () => {
      expect((await call("GET", "/api/v1/leads?top=5", tok("crm"))).status).toBe(200);
      const seg = await call("POST", "/api/v1/segment", tok("crm"), {
        type: "identify",
        userId: "u-1",
        traits: { email: "bob@scopes.example" },
      });
      expect(seg.status).toBe(200);
      expect((await call("DELETE", "/api/v1/leads/bob@scopes.example", tok("crm"))).status).toBe(
        403,
      );
    });

    it("when an admin token erases a lead, then the audit row names the token and no personal data", async () => {
      const res = await call("DELETE", "/api/v1/leads/bob@scopes.example", tok("ops"));
      expect(res.status).toBe(200);
      const rows = await execRows<{ actor: string; subject: string; details: unknown }>(
        app.database.db,
        sql`select actor, subject, details from audit_log where action = 'lead.erased'`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.actor).toBe("api:ops");
      expect(JSON.stringify(rows)).not.toContain("bob@");
    });

    it("when the bootstrap token is used, then it is admin", async () => {
      expect((await call("GET", "/api/v1/leads?top=5", BOOTSTRAP)).status).toBe(200);
      const erase = await call("DELETE", "/api/v1/leads/ada@scopes.example", BOOTSTRAP);
      expect(erase.status).toBe(200);
    });

    it("when a token is revoked, then the API refuses it with a 401", async () => {
      const t = await app.services.tokens.create("short-lived", "test", ["read"]);
      expect((await call("GET", "/api/v1/leads?top=1", t.token)).status).toBe(200);
      await app.services.tokens.revoke(t.id as number, "test");
      const after = await call("GET", "/api/v1/leads?top=1", t.token);
      expect(after.status).toBe(401);
      expect(String(after.body.message)).toContain("revoked");
    });

    it("when a token is used many times within a minute, then lastUsedAt is written once, and again after a minute", async () => {
      const id = tokens.dashboard?.id as number;
      now = START + 5 * 60_000;
      await call("GET", "/api/v1/leads?top=1", tok("dashboard"));
      expect(await lastUsed(id)).toBe(now);
      const first = now;
      now += 30_000;
      await call("GET", "/api/v1/leads?top=1", tok("dashboard"));
      await call("GET", "/api/v1/leads?top=1", tok("dashboard"));
      expect(await lastUsed(id)).toBe(first);
      now += 31_000;
      await call("GET", "/api/v1/leads?top=1", tok("dashboard"));
      expect(await lastUsed(id)).toBe(now);
      const listed = (await app.services.tokens.list()).find((t) => t.id === id);
      expect(listed?.scopes).toEqual(["read"]);
      expect(listed?.lastUsedAt?.getTime()).toBe(now);
    });
  });
}

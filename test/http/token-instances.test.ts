import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { openDatabase } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";
import { eventually } from "../support/slack.js";

/** How soon every instance must refuse a revoked token or enforce reduced scopes. */
const PROPAGATION_MS = 1_000;
/** Calls that warm an instance's memory of a token before it changes. */
const WARM_CALLS = 5;

/** Polls every 10 ms until `check` holds, failing once `ms` have passed since the change. */
const within = <T>(ms: number, check: () => Promise<T | undefined>): Promise<T> =>
  eventually(check, ms, 10);

for (const config of testDatabases()) {
  // Two app instances over one Postgres database; on PGlite, which one process holds, the one.
  const two = config.name === "postgres";
  describe(`API tokens across ${two ? "two app instances" : "the app instance"} on ${config.name}`, () => {
    let a: Leadbot;
    let b: Leadbot;
    let cleanup: () => Promise<void>;

    const status = async (app: Leadbot, method: string, path: string, token: string) => {
      const res = await fetch(`http://127.0.0.1:${app.port}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(method === "POST" ? { "content-type": "application/json" } : {}),
        },
        body: method === "POST" ? JSON.stringify({ events: [] }) : undefined,
      });
      await res.arrayBuffer();
      return res.status;
    };
    const top = (app: Leadbot, token: string) => status(app, "GET", "/api/v1/leads?top=1", token);
    const warm = async (app: Leadbot, token: string) => {
      for (let i = 0; i < WARM_CALLS; i++) expect(await top(app, token)).toBe(200);
    };

    beforeAll(async () => {
      const opened = await withDatabase(config);
      const env = loadEnv({ PORT: "0", LEADBOT_DEMO: "off", LEADBOT_DECAY_CRON: "off" });
      a = await startLeadbot({ env, logger: silentLogger, database: opened.database });
      const second = two ? await openDatabase({ url: opened.url, migrate: false }) : undefined;
      b = second ? await startLeadbot({ env, logger: silentLogger, database: second }) : a;
      cleanup = async () => {
        if (b !== a) await b.stop();
        await a.stop();
        await second?.close();
        await opened.cleanup();
      };
    });

    afterAll(async () => {
      await cleanup?.();
    });

    it("when a token is created through A, then B accepts it at once", async () => {
      const warmUp = await a.services.tokens.create("warm-up", "test", ["read"]);
      await warm(b, warmUp.token);
      const t = await a.services.tokens.create("fresh", "test", ["read"]);
      expect(await top(b, t.token)).toBe(200);
    });

    it("when a token is revoked through A, then B refuses it within a second", async () => {
      const t = await a.services.tokens.create("revoked-on-a", "test", ["read"]);
      await warm(a, t.token);
      await warm(b, t.token);
      await a.services.tokens.revoke(t.id as number, "test");
      expect(await top(a, t.token)).toBe(401);
      await within(PROPAGATION_MS, async () =>
        (await top(b, t.token)) === 401 ? true : undefined,
      );
    });

    it("when a token's scopes are reduced through A, then B enforces them within a second", async () => {
      const t = await a.services.tokens.create("narrowed-on-a", "test", ["ingest", "read"]);
      await warm(b, t.token);
      expect(await status(b, "POST", "/api/v1/events", t.token)).toBe(200);
      await a.services.tokens.setScopes(t.id as number, ["ingest"], "test");
      await within(PROPAGATION_MS, async () =>
        (await top(b, t.token)) === 403 ? true : undefined,
      );
      // What the token still holds keeps working.
      expect(await status(b, "POST", "/api/v1/events", t.token)).toBe(200);
    });

    it("when a scope change names no active token or no scope, then it says what to fix", async () => {
      await expect(a.services.tokens.setScopes(999_999, ["read"], "test")).rejects.toThrow(
        "No active API token has id 999999.",
      );
      const t = await a.services.tokens.create("kept", "test", ["read"]);
      await expect(a.services.tokens.setScopes(t.id as number, [], "test")).rejects.toThrow(
        "at least one scope",
      );
    });
  });
}

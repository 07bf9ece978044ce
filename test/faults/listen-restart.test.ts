import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, exec, openDatabase } from "../../src/db/client.js";
import { createTokenVerifier } from "../../src/services/token-cache.js";
import { createToken, revokeToken } from "../../src/services/tokens.js";
import { eventually } from "../support/slack.js";
import { findPgBin, type PgServer, startPgServer } from "./pg-server.js";

/**
 * Postgres restarted under an instance that remembers verified tokens: the LISTEN connection
 * goes with the server, what the instance remembered is dropped, and once the server is back it
 * listens again and hears the next revocation.
 */

const BIN = findPgBin();
const NOW = Date.parse("2026-11-20T12:00:00Z");

describe.skipIf(!BIN)(
  `token cache across a Postgres restart${BIN ? "" : " (skipped: no initdb under /usr/lib/postgresql/*/bin)"}`,
  () => {
    let pg: PgServer;
    let database: Database;

    beforeAll(async () => {
      pg = await startPgServer(BIN as string);
      database = await openDatabase({ url: pg.url, maxConnections: 2 });
    }, 120_000);

    afterAll(async () => {
      await database?.close();
      await pg?.stop();
    });

    it("when Postgres restarts, then remembered tokens are dropped and revocations are heard again once it is back", async () => {
      const v = createTokenVerifier(database.db, database.notifications);
      const remember = async (token: string) =>
        eventually(async () => {
          const caller = await v.verify(token, undefined, NOW).catch(() => undefined);
          return caller && v.size().tokens > 0 ? caller : undefined;
        }, 30_000);
      const t = await createToken(database.db, "before-restart", "test", ["read"]);
      await remember(t.token);

      await pg.restart();
      // Revoked with no notification right after the restart: a change the cache cannot hear.
      await eventually(
        () =>
          exec(database.db, sql`update api_tokens set revoked_at = now() where id = ${t.id}`).then(
            () => true,
            () => undefined,
          ),
        30_000,
      );
      expect(await v.verify(t.token, undefined, NOW)).toBeUndefined();

      const u = await createToken(database.db, "after-restart", "test", ["read"]);
      await remember(u.token);
      await revokeToken(database.db, u.id as number, "test");
      await eventually(() => (v.size().tokens === 0 ? true : undefined), 1_000);
      expect(await v.verify(u.token, undefined, NOW)).toBeUndefined();
    }, 120_000);
  },
);

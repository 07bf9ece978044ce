import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, exec, execRows, openDatabase } from "../../src/db/client.js";
import { LISTEN_APPLICATION_NAME } from "../../src/db/notifications.js";
import { createTokenVerifier, type TokenVerifier } from "../../src/services/token-cache.js";
import { createToken, revokeToken, setTokenScopes } from "../../src/services/tokens.js";
import { testDatabases, withDatabase } from "../support/db.js";
import { eventually } from "../support/slack.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
/** How soon every instance must refuse a revoked token. */
const PROPAGATION_MS = 1_000;

/** Polls every 10 ms until `check` holds, failing once `ms` have passed since the change. */
const within = <T>(ms: number, check: () => Promise<T | undefined>): Promise<T> =>
  eventually(check, ms, 10);

/** Verifies until the verifier remembers the token: it does once it hears changes. */
async function remembered(v: TokenVerifier, token: string): Promise<void> {
  await eventually(async () => {
    const before = v.size().tokens;
    const caller = await v.verify(token, undefined, NOW);
    return caller && v.size().tokens >= Math.max(before, 1) ? true : undefined;
  }, 10_000);
}

for (const config of testDatabases()) {
  describe(`API token cache on ${config.name}`, () => {
    /** Instance A's database, where changes are made. */
    let a: Database;
    /** Instance B's: a second connection pool on Postgres, the same database on PGlite. */
    let b: Database;
    let url: string;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await withDatabase(config);
      a = opened.database;
      url = opened.url;
      b =
        config.name === "postgres"
          ? await openDatabase({ url, migrate: false, maxConnections: 2 })
          : a;
      cleanup = async () => {
        if (b !== a) await b.close();
        await opened.cleanup();
      };
    });

    afterAll(async () => {
      await cleanup?.();
    });

    it("when a token was verified, then it is answered from memory until its time to live ends", async () => {
      let mono = 0;
      const v = createTokenVerifier(b.db, b.notifications, { monotonic: () => mono });
      const t = await createToken(a.db, "remembered", "test", ["read"]);
      await remembered(v, t.token);
      // A change that sends no notification is not seen while the grant is remembered...
      await exec(a.db, sql`update api_tokens set revoked_at = now() where id = ${t.id}`);
      expect((await v.verify(t.token, undefined, NOW))?.name).toBe("remembered");
      // ...and is once the time to live has passed.
      mono += 30_001;
      expect(await v.verify(t.token, undefined, NOW)).toBeUndefined();
    });

    it("when many unknown tokens are presented, then memory stays bounded and verified tokens stay remembered", async () => {
      const v = createTokenVerifier(b.db, b.notifications, { maxUnknown: 50 });
      const t = await createToken(a.db, "kept", "test", ["read"]);
      await remembered(v, t.token);
      for (let i = 0; i < 200; i++) {
        expect(
          await v.verify(`lbt_${randomBytes(24).toString("base64url")}`, undefined, NOW),
        ).toBeUndefined();
      }
      expect(v.size()).toEqual({ tokens: 1, unknown: 50 });
    });

    it("when a token is created anywhere, then every instance forgets the tokens it refused", async () => {
      const v = createTokenVerifier(b.db, b.notifications);
      const t = await createToken(a.db, "warm-up", "test", ["read"]);
      await remembered(v, t.token);
      expect(await v.verify("lbt_not-a-token-yet", undefined, NOW)).toBeUndefined();
      expect(v.size().unknown).toBe(1);
      const created = await createToken(a.db, "fresh", "test", ["read"]);
      await within(PROPAGATION_MS, async () => (v.size().unknown === 0 ? true : undefined));
      expect((await v.verify(created.token, undefined, NOW))?.name).toBe("fresh");
    });

    it("when a token is created on one instance, then another accepts it at once", async () => {
      const vb = createTokenVerifier(b.db, b.notifications);
      const t = await createToken(a.db, "warm-up", "test", ["read"]);
      await remembered(vb, t.token);
      const created = await createToken(a.db, "new-on-a", "test", ["ingest"]);
      expect(await vb.verify(created.token, undefined, NOW)).toEqual({
        tokenId: created.id,
        name: "new-on-a",
        scopes: ["ingest"],
      });
    });

    it("when a token is revoked on one instance, then another that remembers it refuses it within a second", async () => {
      const va = createTokenVerifier(a.db, a.notifications);
      const vb = createTokenVerifier(b.db, b.notifications);
      const t = await createToken(a.db, "to-revoke", "test", ["read"]);
      await remembered(va, t.token);
      await remembered(vb, t.token);
      await revokeToken(a.db, t.id as number, "test", va.changed);
      // The instance that revoked it refuses it at once.
      expect(await va.verify(t.token, undefined, NOW)).toBeUndefined();
      await within(PROPAGATION_MS, async () =>
        (await vb.verify(t.token, undefined, NOW)) === undefined ? true : undefined,
      );
    });

    it("when a token's scopes are reduced on one instance, then another enforces them within a second", async () => {
      const va = createTokenVerifier(a.db, a.notifications);
      const vb = createTokenVerifier(b.db, b.notifications);
      const t = await createToken(a.db, "narrowed", "test", ["ingest", "read"]);
      await remembered(vb, t.token);
      expect((await vb.verify(t.token, undefined, NOW))?.scopes).toEqual(["ingest", "read"]);
      const changed = await setTokenScopes(a.db, t.id as number, ["ingest"], "test", va.changed);
      expect(changed.before).toEqual(["ingest", "read"]);
      await within(PROPAGATION_MS, async () => {
        const scopes = (await vb.verify(t.token, undefined, NOW))?.scopes;
        return scopes?.length === 1 && scopes[0] === "ingest" ? true : undefined;
      });
    });

    if (config.name === "postgres") {
      it("when the listening connection is lost, then the cache is cleared, nothing is served from it until it listens again, and then changes arrive again", async () => {
        const listener = await openDatabase({ url, migrate: false, maxConnections: 2 });
        try {
          const v = createTokenVerifier(listener.db, listener.notifications);
          const t = await createToken(a.db, "through-a-loss", "test", ["read"]);
          await remembered(v, t.token);
          // Every listening backend of this database goes, this instance's among them.
          const killed = await execRows<{ ok: boolean }>(
            a.db,
            sql`select pg_terminate_backend(pid) as ok from pg_stat_activity
                where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`,
          );
          expect(killed.length).toBeGreaterThan(0);
          // Revoked with no notification while the connection is down: one the cache missed.
          await exec(a.db, sql`update api_tokens set revoked_at = now() where id = ${t.id}`);
          await eventually(() => (v.size().tokens === 0 ? true : undefined), 5_000);
          expect(await v.verify(t.token, undefined, NOW)).toBeUndefined();
          // Listening again: a token is remembered, and its revocation through A reaches it.
          const u = await createToken(a.db, "after-the-loss", "test", ["read"]);
          await remembered(v, u.token);
          await revokeToken(a.db, u.id as number, "test");
          await within(PROPAGATION_MS, async () => (v.size().tokens === 0 ? true : undefined));
          expect(await v.verify(u.token, undefined, NOW)).toBeUndefined();
        } finally {
          await listener.close();
        }
      });
    }
  });
}

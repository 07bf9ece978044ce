import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, execRows, openDatabase } from "../../src/db/client.js";
import {
  CHANNELS,
  LISTEN_APPLICATION_NAME,
  notify,
  type Subscription,
} from "../../src/db/notifications.js";
import { testDatabases, withDatabase } from "../support/db.js";
import { eventually } from "../support/slack.js";

/** What one subscriber heard: payloads in order, and how many times it was reset. */
function recorder() {
  const heard = { payloads: [] as string[], resets: 0 };
  return {
    heard,
    handlers: {
      message: (p: string) => heard.payloads.push(p),
      reset: () => {
        heard.resets += 1;
      },
    },
  };
}

for (const config of testDatabases()) {
  describe(`notifications on ${config.name}`, () => {
    let database: Database;
    /** The instance that listens: a second connection pool on Postgres, the same one on PGlite. */
    let listener: Database;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await withDatabase(config);
      database = opened.database;
      listener =
        config.name === "postgres"
          ? await openDatabase({ url: opened.url, migrate: false, maxConnections: 2 })
          : database;
      cleanup = async () => {
        if (listener !== database) await listener.close();
        await opened.cleanup();
      };
    });

    afterAll(async () => {
      await cleanup?.();
    });

    it("when a transaction notifies and commits, then a listener hears it once; a rolled-back one is never heard", async () => {
      const r = recorder();
      const sub = listener.notifications.listen(CHANNELS.tokens, r.handlers);
      try {
        await eventually(() => (sub.live ? true : undefined), 10_000);
        expect(r.heard.resets).toBe(1);
        await database.db
          .transaction(async (tx) => {
            await notify(tx, CHANNELS.tokens, "rolled-back");
            throw new Error("roll back");
          })
          .catch(() => {});
        await database.db.transaction(async (tx) => {
          await notify(tx, CHANNELS.tokens, "committed");
        });
        await eventually(() => (r.heard.payloads.length > 0 ? true : undefined), 5_000);
        // One more committed after it: once it arrives, anything sent before has arrived too.
        await notify(database.db, CHANNELS.tokens, "last");
        await eventually(() => (r.heard.payloads.includes("last") ? true : undefined), 5_000);
        expect(r.heard.payloads).toEqual(["committed", "last"]);
      } finally {
        sub.close();
      }
    });

    if (config.name === "postgres")
      it("when the listening backend is terminated, then subscribers are reset, listen again and hear what is sent after", async () => {
        const r = recorder();
        const sub: Subscription = listener.notifications.listen(CHANNELS.tokens, r.handlers);
        try {
          await eventually(() => (sub.live ? true : undefined), 10_000);
          const before = await listeningPids(database);
          expect(before).toHaveLength(1);
          const resetsBefore = r.heard.resets;
          await execRows(
            database.db,
            sql`select pg_terminate_backend(pid) from pg_stat_activity
                where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`,
          );
          // Reset on the loss and again once listening on a new backend.
          const after = await eventually(async () => {
            const pids = await listeningPids(database);
            return sub.live && r.heard.resets >= resetsBefore + 2 && pids.length === 1
              ? pids
              : undefined;
          }, 15_000);
          expect(after).not.toEqual(before);
          await notify(database.db, CHANNELS.tokens, "after-reconnect");
          await eventually(
            () => (r.heard.payloads.includes("after-reconnect") ? true : undefined),
            5_000,
          );
        } finally {
          sub.close();
        }
      });
  });
}

/** Backends of this database that hold a LISTEN of the notifications module. */
async function listeningPids(database: Database): Promise<number[]> {
  const rows = await execRows<{ pid: number }>(
    database.db,
    sql`select pid from pg_stat_activity
        where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()
          and state = 'idle' and query ilike 'listen%'`,
  );
  return rows.map((r) => r.pid);
}

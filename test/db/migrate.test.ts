import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { execRows, openDatabase } from "../../src/db/client.js";
import { createScratchDatabase, TEST_DATABASE_URL } from "../support/db.js";

const migrationCount = async (url: string | undefined, dataDir?: string) => {
  const database = await openDatabase({ url, ...(dataDir ? { dataDir } : {}), migrate: false });
  try {
    const [row] = await execRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
    );
    return row?.n ?? 0;
  } finally {
    await database.close();
  }
};

describe("migrations", () => {
  const server = TEST_DATABASE_URL ?? "";
  // Shown as skipped under `npm test`: the race needs a Postgres server (TEST_DATABASE_URL).
  it.skipIf(!TEST_DATABASE_URL)(
    "when two instances start together on one Postgres, then migrations run once and both start",
    async () => {
      const scratch = await createScratchDatabase(server, "leadbot_migrate");
      try {
        const opened = await Promise.all([
          openDatabase({ url: scratch.url, maxConnections: 2 }),
          openDatabase({ url: scratch.url, maxConnections: 2 }),
          openDatabase({ url: scratch.url, maxConnections: 2 }),
        ]);
        await Promise.all(opened.map((d) => d.close()));
        expect(await migrationCount(scratch.url)).toBeGreaterThan(0);
        const again = await migrationCount(scratch.url);
        const reopened = await openDatabase({ url: scratch.url, maxConnections: 1 });
        await reopened.close();
        expect(await migrationCount(scratch.url)).toBe(again);
      } finally {
        await scratch.drop();
      }
    },
  );
  describe.skipIf(Boolean(TEST_DATABASE_URL))("on the embedded database", () => {
    const dir = mkdtempSync(join(tmpdir(), "leadbot-migrate-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    it("when the embedded database is opened again, then applied migrations are not run twice", async () => {
      const first = await openDatabase({ dataDir: dir });
      await first.close();
      const count = await migrationCount(undefined, dir);
      expect(count).toBeGreaterThan(0);
      const second = await openDatabase({ dataDir: dir });
      await second.close();
      expect(await migrationCount(undefined, dir)).toBe(count);
    });
  });
});

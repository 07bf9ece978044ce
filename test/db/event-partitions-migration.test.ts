import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { afterAll, describe, expect, it } from "vitest";
import { type Database, execRows, MIGRATIONS_DIR, openDatabase } from "../../src/db/client.js";
import { createScratchDatabase, TEST_DATABASE_URL } from "../support/db.js";

/** The migration that partitions events. */
const PARTITIONING = "0014_event_partitions";

/** A copy of the migrations folder that stops just before `tag`. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), "leadbot-migrations-"));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
    entries: { idx: number; tag: string }[];
  };
  const stop = journal.entries.findIndex((e) => e.tag === tag);
  expect(stop).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, stop);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/** An unpartitioned events table with rows: a busy past month, stray old times, this month. */
async function seedUnpartitioned(database: Database): Promise<void> {
  await database.copyIn(
    "leads",
    ["email"],
    Array.from({ length: 30 }, (_, i) => [`p${i}@acme.com`]),
  );
  const rows: unknown[][] = [];
  for (let i = 0; i < 1200; i++)
    rows.push([
      `busy-${i}`,
      (i % 30) + 1,
      "email_open",
      new Date(Date.UTC(2026, 2, 1) + i * 60_000),
    ]);
  for (let i = 0; i < 5; i++)
    rows.push([`stray-${i}`, i + 1, "demo_request", new Date(Date.UTC(2003, i, 3))]);
  rows.push(["recent-0", 7, "page_view", new Date(Date.now() - 60_000)]);
  const now = new Date();
  rows.push([
    "soon-0",
    8,
    "page_view",
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 15)),
  ]);
  await database.copyIn("events", ["id", "lead_id", "type", "occurred_at"], rows);
}

async function checkConverted(database: Database): Promise<void> {
  const db = database.db;
  const parts = await execRows<{ name: string; n: number }>(
    db,
    sql`select c.relname as name, (select count(*)::int from events e where e.tableoid = c.oid) as n
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'events'::regclass order by 1`,
  );
  const byName = new Map(parts.map((p) => [p.name, p.n]));
  // The busy month got its partition; the stray old events wait in the default one.
  expect(byName.get("events_2026_03")).toBe(1200);
  expect(byName.get("events_default")).toBe(5);
  const month = (ms: number) =>
    `events_${new Date(ms).toISOString().slice(0, 7).replace("-", "_")}`;
  expect(byName.has(month(Date.now()))).toBe(true);
  const now = new Date();
  expect(byName.has(month(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)))).toBe(true);
  expect([...byName.values()].reduce((a, b) => a + b, 0)).toBe(1207);
  const [ids] = await execRows<{ n: number }>(db, sql`select count(*)::int as n from event_ids`);
  expect(ids?.n).toBe(1207);
  const [kind] = await execRows<{ k: string }>(
    db,
    sql`select relkind::text as k from pg_class where relname = 'events'`,
  );
  expect(kind?.k).toBe("p");
  // The lead index, the scorer's batch index and the cascade from leads hold in every partition.
  const idx = await execRows<{ def: string }>(
    db,
    sql`select pg_get_indexdef(indexrelid) as def from pg_index
        where indrelid = 'events_2026_03'::regclass order by 1`,
  );
  expect(idx.map((i) => i.def.replace(/^.* USING /, ""))).toEqual([
    "btree (batch, lead_id) WHERE (batch IS NOT NULL)",
    "btree (lead_id, occurred_at)",
  ]);
  await db.execute(sql`delete from leads where id in (1, 2)`);
  const [left] = await execRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from events where lead_id in (1, 2)`,
  );
  expect(left?.n).toBe(0);
  const [kept] = await execRows<{ n: number }>(db, sql`select count(*)::int as n from events`);
  expect(kept?.n).toBe(1207 - 80 - 2);
}

describe("migrating events to monthly partitions", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.skipIf(Boolean(TEST_DATABASE_URL))(
    "when the embedded database holds unpartitioned events, then migrating keeps every one, partitioned",
    async () => {
      const before = migrationsBefore(PARTITIONING);
      const dataDir = mkdtempSync(join(tmpdir(), "leadbot-partition-"));
      dirs.push(before, dataDir);
      const old = await openDatabase({ dataDir, migrate: false });
      try {
        await migratePglite(old.db as never, { migrationsFolder: before });
        await seedUnpartitioned(old);
      } finally {
        await old.close();
      }
      const migrated = await openDatabase({ dataDir });
      try {
        await checkConverted(migrated);
      } finally {
        await migrated.close();
      }
    },
  );

  it.skipIf(!TEST_DATABASE_URL)(
    "when a Postgres database holds unpartitioned events, then migrating keeps every one, partitioned",
    async () => {
      const before = migrationsBefore(PARTITIONING);
      dirs.push(before);
      const scratch = await createScratchDatabase(TEST_DATABASE_URL ?? "", "leadbot_partition");
      try {
        const old = await openDatabase({ url: scratch.url, migrate: false, maxConnections: 1 });
        try {
          await migratePostgres(old.db as never, { migrationsFolder: before });
          await seedUnpartitioned(old);
        } finally {
          await old.close();
        }
        const migrated = await openDatabase({ url: scratch.url, maxConnections: 2 });
        try {
          await checkConverted(migrated);
        } finally {
          await migrated.close();
        }
      } finally {
        await scratch.drop();
      }
    },
  );
});

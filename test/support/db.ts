import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, beforeEach } from "vitest";
import {
  type Database,
  type Db,
  type DbOrTx,
  execRows,
  openDatabase,
} from "../../src/db/client.js";
import { ensureModel } from "../../src/services/models.js";

/** A database a suite runs against: embedded PGlite always, a real Postgres when one is given. */
export interface TestDatabaseConfig {
  name: "pglite" | "postgres";
  /** `memory://`, or the server URL from TEST_DATABASE_URL (a fresh database is made from it). */
  url: string;
}

/** The server named by TEST_DATABASE_URL, or undefined when the Postgres pass is off. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

/**
 * The databases of this pass: embedded PGlite by default (`npm test`), the Postgres server when
 * TEST_DATABASE_URL is set (`npm run test:db`, the second pass of CI).
 */
export function testDatabases(): TestDatabaseConfig[] {
  return TEST_DATABASE_URL
    ? [{ name: "postgres", url: TEST_DATABASE_URL }]
    : [{ name: "pglite", url: "memory://" }];
}

export interface TestDatabase {
  database: Database;
  /** The URL the database was opened with (for a second connection to the same database). */
  url: string;
  /** Closes the connection and, on Postgres, drops the database made for this suite. */
  cleanup(): Promise<void>;
}

/** Creates a uniquely named database on the server at `serverUrl`; returns its URL and a drop. */
export async function createScratchDatabase(
  serverUrl: string,
  prefix = "leadbot_test",
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(databaseUrl(serverUrl, "postgres"), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return {
    url: databaseUrl(serverUrl, name),
    async drop() {
      const conn = postgres(databaseUrl(serverUrl, "postgres"), { max: 1, onnotice: () => {} });
      try {
        await conn.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await conn.end({ timeout: 5 });
      }
    },
  };
}

function databaseUrl(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Opens a migrated database for one suite. */
export async function withDatabase(config: TestDatabaseConfig): Promise<TestDatabase> {
  if (config.name === "pglite") {
    const database = await openDatabase({ url: "memory://" });
    return { database, url: "memory://", cleanup: () => database.close() };
  }
  const scratch = await createScratchDatabase(config.url);
  const database = await openDatabase({ url: scratch.url, maxConnections: 5 });
  return {
    database,
    url: scratch.url,
    async cleanup() {
      await database.close();
      await scratch.drop();
    },
  };
}

/**
 * The database of one suite, for use inside `describe`: opened before its tests, closed after,
 * and emptied and given the default model before each test (before the suite's own beforeEach).
 * Its fields are read in hooks and tests, once the database is open.
 */
export function suiteDatabase(config: TestDatabaseConfig): TestDatabase & { readonly db: Db } {
  let opened: TestDatabase | undefined;
  const current = (): TestDatabase => {
    if (!opened) throw new Error("the suite's database is open only inside its hooks and tests");
    return opened;
  };
  beforeAll(async () => {
    opened = await withDatabase(config);
  });
  afterAll(async () => {
    await opened?.cleanup();
  });
  beforeEach(async () => {
    await truncateAll(current().database.db);
    await ensureModel(current().database.db);
  });
  return {
    get database() {
      return current().database;
    },
    get url() {
      return current().url;
    },
    get db() {
      return current().database.db;
    },
    cleanup: () => current().cleanup(),
  };
}

/** Empties every application table (keeps migrations), restarting identity sequences. */
export async function truncateAll(db: DbOrTx): Promise<void> {
  const tables = await execRows<{ name: string }>(
    db,
    sql`select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`,
  );
  if (tables.length === 0) return;
  const statement = sql.raw(
    `truncate ${tables.map((t) => t.name).join(", ")} restart identity cascade`,
  );
  // The running app's dispatcher and announcer lock rows too: a truncate between two of their
  // statements can be chosen as a deadlock victim, and then simply goes again.
  for (let attempt = 1; ; attempt++) {
    try {
      await db.execute(statement);
      return;
    } catch (err) {
      const e = err as { cause?: { code?: string }; code?: string };
      const code = e.cause?.code ?? e.code;
      if (code !== "40P01" || attempt >= TRUNCATE_ATTEMPTS) throw err;
    }
  }
}

/** How often truncateAll goes again after losing a deadlock to the app's background work. */
const TRUNCATE_ATTEMPTS = 5;

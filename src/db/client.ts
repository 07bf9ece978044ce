import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { type Logger, silentLogger } from "../lib/logger.js";
import { acquireDirLock } from "./dir-lock.js";
import { type Notifications, pgliteNotifications, postgresNotifications } from "./notifications.js";
import * as schema from "./schema.js";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema>;
/** A handle that is either the database or a transaction on it. */
export type DbOrTx = Db | Tx;

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../drizzle", import.meta.url));
/** Key of the advisory lock that serialises migrations across instances ("leadbot:migrate"). */
const MIGRATION_LOCK_KEY = 7_240_113_001;

export { acquireDirLock, DatabaseLockedError } from "./dir-lock.js";

export interface Database {
  db: Db;
  kind: "pglite" | "postgres";
  /** Bulk-load rows with COPY; values are written as CSV, `null` as an empty unquoted field. */
  copyIn(
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly unknown[]>,
  ): Promise<void>;
  /** LISTEN/NOTIFY: changes other instances (or this one) must hear about at once. */
  notifications: Notifications;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Postgres URL, `memory://`, or undefined for PGlite under `dataDir`. */
  url?: string | undefined;
  dataDir?: string;
  logger?: Logger;
  /** Run migrations after opening (default true). */
  migrate?: boolean;
  /** postgres.js pool size. */
  maxConnections?: number;
}

export async function openDatabase(opts: OpenOptions = {}): Promise<Database> {
  const logger = opts.logger ?? silentLogger;
  const database =
    opts.url && opts.url !== "memory://"
      ? openPostgres(opts.url, opts.maxConnections ?? 10, logger)
      : await openPglite(
          opts.url === "memory://" ? undefined : (opts.dataDir ?? "./.data"),
          logger,
        );
  if (opts.migrate !== false) {
    try {
      await runMigrations(database, opts.url);
    } catch (err) {
      await database.close();
      throw err;
    }
  }
  return database;
}

/** Rows of a raw query, whichever driver runs it. */
export async function execRows<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  const res = (await db.execute(query)) as unknown;
  if (Array.isArray(res)) return res as T[];
  return ((res as { rows?: T[] }).rows ?? []) as T[];
}

function toCsvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s =
    v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) || s === "" ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsvLine(row: readonly unknown[]): string {
  return `${row.map(toCsvField).join(",")}\n`;
}

function copyStatement(table: string, columns: readonly string[], source: string): string {
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return `COPY ${ident(table)} (${columns.map(ident).join(", ")}) FROM ${source} WITH (FORMAT csv)`;
}

function openPostgres(url: string, max: number, logger: Logger): Database {
  const client = postgres(url, {
    max,
    onnotice: () => {},
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  // Its connection opens with the first listen(): short-lived tools never open it.
  const notifications = postgresNotifications(url, logger);
  return {
    db,
    kind: "postgres",
    notifications,
    async copyIn(table, columns, rows) {
      const stream = await client.unsafe(copyStatement(table, columns, "STDIN")).writable();
      await new Promise<void>((resolveDone, reject) => {
        stream.on("error", reject);
        stream.on("finish", resolveDone);
        let buf = "";
        for (const row of rows) {
          buf += toCsvLine(row);
          if (buf.length > 1 << 20) {
            stream.write(buf);
            buf = "";
          }
        }
        stream.end(buf);
      });
    },
    async close() {
      await notifications.close();
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * Settings of the embedded database, measured with `npm run bench -- --pglite` (25k leads: the
 * activity rebuild 1.8x and the SQL rescan 3x faster than with PGlite's defaults). Its page I/O
 * goes through an emulated file system in JavaScript, so a larger buffer cache saves more than on
 * a server; the sorts and hashes of a rescore fit in 32 MB. Full-page images in the WAL guard
 * against torn pages on power loss, which PGlite (fsync off) does not survive anyway; a killed
 * process leaves no torn page, each page going out in one write. Buffers are taken as pages are
 * first read, so a small database stays small.
 */
const PGLITE_SETTINGS = [
  "-c",
  "shared_buffers=512MB",
  "-c",
  "work_mem=32MB",
  "-c",
  "full_page_writes=off",
  "-c",
  "max_wal_size=4GB",
  "-c",
  "checkpoint_timeout=30min",
];

async function openPglite(dataDir: string | undefined, logger: Logger): Promise<Database> {
  let release = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    release = acquireDirLock(dataDir);
    // A process killed with SIGKILL leaves postmaster.pid behind; PGlite is the only user here.
    rmSync(join(dataDir, "pgdata", "postmaster.pid"), { force: true });
  }
  // Loaded here, not on import: PGlite adds about 50 MB to a process's memory, which a server on
  // Postgres should not carry.
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import("@electric-sql/pglite"),
    import("drizzle-orm/pglite"),
  ]);
  let pg: PGlite;
  try {
    const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS];
    pg = dataDir
      ? await PGlite.create(join(dataDir, "pgdata"), { startParams })
      : await PGlite.create({ startParams });
  } catch (err) {
    release();
    throw err;
  }
  logger.debug({ dataDir }, "embedded database open");
  const db = drizzlePglite(pg, { schema }) as unknown as Db;
  const notifications = pgliteNotifications(pg, logger);
  let closed = false;
  return {
    db,
    kind: "pglite",
    notifications,
    async copyIn(table, columns, rows) {
      const parts: string[] = [];
      for (const row of rows) parts.push(toCsvLine(row));
      await pg.query(copyStatement(table, columns, "'/dev/blob'"), [], {
        blob: new Blob(parts),
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await notifications.close();
        await pg.close();
      } finally {
        release();
      }
    },
  };
}

async function runMigrations(database: Database, url: string | undefined): Promise<void> {
  if (database.kind === "pglite") {
    const { migrate: migratePglite } = await import("drizzle-orm/pglite/migrator");
    await migratePglite(database.db as never, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  // drizzle's migrate() takes no lock: hold an advisory lock on one dedicated connection.
  const conn = postgres(url as string, { max: 1, onnotice: () => {} });
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzlePostgres(conn), { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await conn.end({ timeout: 5 });
  }
}

/** The driver's own client under a drizzle handle: postgres.js (`unsafe`) or PGlite (`query`). */
type RawClient =
  | { unsafe(text: string, params: unknown[], opts: { prepare: boolean }): Promise<unknown[]> }
  | { query(text: string, params: unknown[]): Promise<{ rows: unknown[] }> };

/**
 * Runs one statement as a prepared statement on the driver under `db` (the pool, or the
 * connection of the transaction `db` is). For hot paths: drizzle's `execute` parses and plans
 * the statement on every call. Parameters go as driver values: strings, numbers, arrays of them.
 */
export async function preparedRows<T>(
  db: DbOrTx,
  text: string,
  params: readonly unknown[],
): Promise<T[]> {
  // drizzle keeps the driver's client (or transaction) on the handle's session.
  const client = (db as unknown as { session: { client: RawClient } }).session.client;
  if ("unsafe" in client) return (await client.unsafe(text, [...params], { prepare: true })) as T[];
  return (await client.query(text, [...params])).rows as T[];
}

/** Simple helper for tests and tools: a statement with no result. */
export async function exec(db: DbOrTx, query: SQL | string): Promise<void> {
  await db.execute(typeof query === "string" ? sql.raw(query) : query);
}

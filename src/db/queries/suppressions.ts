import { inArray, sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";
import { appSecrets, suppressions } from "../schema.js";

export interface SuppressionEntry {
  hash: string;
  kind: "email" | "external_id";
}

export async function insertSuppressions(
  db: DbOrTx,
  p: { entries: readonly SuppressionEntry[]; by: string },
): Promise<void> {
  if (p.entries.length === 0) return;
  await db
    .insert(suppressions)
    .values(p.entries.map((e) => ({ hash: e.hash, kind: e.kind, createdBy: p.by })))
    .onConflictDoNothing();
}

/** Removes entries; the number removed. */
export async function deleteSuppressions(
  db: DbOrTx,
  p: { hashes: readonly string[] },
): Promise<number> {
  if (p.hashes.length === 0) return 0;
  const rows = await db
    .delete(suppressions)
    .where(inArray(suppressions.hash, [...p.hashes]))
    .returning({ hash: suppressions.hash });
  return rows.length;
}

/** Which of `hashes` are suppressed. */
export async function suppressedAmong(
  db: DbOrTx,
  p: { hashes: readonly string[] },
): Promise<Set<string>> {
  if (p.hashes.length === 0) return new Set();
  const rows = await db
    .select({ hash: suppressions.hash })
    .from(suppressions)
    .where(inArray(suppressions.hash, [...p.hashes]));
  return new Set(rows.map((r) => r.hash));
}

/** The named secret, made from `candidate` on first need; every instance then reads the same. */
export async function secretOrCreate(
  db: DbOrTx,
  p: { name: string; candidate: string },
): Promise<string> {
  await db.insert(appSecrets).values({ name: p.name, value: p.candidate }).onConflictDoNothing();
  const [row] = await execRows<{ value: string }>(
    db,
    sql`select value from app_secrets where name = ${p.name}`,
  );
  if (!row) throw new Error(`secret ${p.name} could not be stored`);
  return row.value;
}

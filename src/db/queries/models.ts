import { desc, eq, sql } from "drizzle-orm";
import type { ScoringModel } from "../../core/model.js";
import { DEFAULT_MODEL_KEY } from "../../core/model.js";
import { type DbOrTx, execRows } from "../client.js";
import { models, proposals } from "../schema.js";

/** A model's newest version (the default model's unless a key is given), stamped to the µs. */
export async function latestModel(db: DbOrTx, p: { key?: string } = {}) {
  const [row] = await db
    .select({
      version: models.version,
      createdAt: models.createdAt,
      createdBy: models.createdBy,
      stamp: sql<string>`${models.createdAt}::text`,
    })
    .from(models)
    .where(eq(models.key, p.key ?? DEFAULT_MODEL_KEY))
    .orderBy(desc(models.version))
    .limit(1);
  return row;
}

export interface ActiveVersionRow {
  key: string;
  version: number;
  created_at: Date;
  created_by: string;
  /** Creation time to the microsecond, as text: with the version, it names a stored row. */
  stamp: string;
}

/** The newest version of every model key: the active models. */
export function activeVersions(db: DbOrTx): Promise<ActiveVersionRow[]> {
  return execRows<ActiveVersionRow>(
    db,
    sql`select distinct on (key) key, version, created_at, created_by, created_at::text as stamp
        from ${models} order by key, version desc`,
  );
}

export async function modelDefinition(
  db: DbOrTx,
  p: { version: number },
): Promise<unknown | undefined> {
  const [row] = await db
    .select({ definition: models.definition })
    .from(models)
    .where(eq(models.version, p.version));
  return row?.definition;
}

export async function countModels(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(models);
  return row?.n ?? 0;
}

export interface InsertModelParams {
  key: string;
  definition: ScoringModel;
  by: string;
  note: string | null;
  proposalId: number | null;
}

/** Writes the next version number; returns it. */
export async function insertModel(db: DbOrTx, p: InsertModelParams): Promise<number> {
  const [inserted] = await db
    .insert(models)
    .values({
      version: sql`(select coalesce(max(version), 0) + 1 from ${models})`,
      key: p.key,
      definition: p.definition,
      createdBy: p.by,
      note: p.note,
      proposalId: p.proposalId,
    })
    .returning({ version: models.version });
  if (!inserted) throw new Error("model version insert returned nothing");
  return inserted.version;
}

export function modelVersions(db: DbOrTx, p: { limit: number }) {
  return db
    .select({
      version: models.version,
      key: models.key,
      createdBy: models.createdBy,
      createdAt: models.createdAt,
      note: models.note,
      proposalId: models.proposalId,
    })
    .from(models)
    .orderBy(desc(models.version))
    .limit(p.limit);
}

/** The version a proposal's approval activated, if any. */
export async function versionOfProposal(
  db: DbOrTx,
  p: { proposalId: number },
): Promise<number | undefined> {
  const [row] = await db
    .select({ version: models.version })
    .from(models)
    .where(eq(models.proposalId, p.proposalId));
  return row?.version;
}

/**
 * Versions newest first, each with its definition and the proposal that made it (who proposed,
 * who decided, their notes), for a history that shows who, when and what changed.
 */
export function modelHistoryRows(db: DbOrTx, p: { limit: number; before?: number | undefined }) {
  return db
    .select({
      version: models.version,
      definition: models.definition,
      createdBy: models.createdBy,
      createdAt: models.createdAt,
      note: models.note,
      proposalId: models.proposalId,
      proposedBy: proposals.proposedBy,
      reason: proposals.note,
      comment: proposals.decisionNote,
    })
    .from(models)
    .leftJoin(proposals, eq(proposals.id, models.proposalId))
    .where(p.before === undefined ? undefined : sql`${models.version} < ${p.before}`)
    .orderBy(desc(models.version))
    .limit(p.limit);
}

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { desc, eq, sql } from "drizzle-orm";
import { parseModelText } from "../core/model-file.js";
import { type ScoringModel, modelSchema } from "../core/model.js";
import type { DbOrTx } from "../db/client.js";
import { auditLog, models } from "../db/schema.js";
import { NotFoundError } from "./errors.js";

export const DEFAULT_MODEL_FILE = fileURLToPath(
  new URL("../config/default-model.yaml", import.meta.url),
);

export interface ActiveModel {
  version: number;
  model: ScoringModel;
  createdAt: Date;
  createdBy: string;
}

/** Definitions never change once written, so each version is parsed once per process. */
const byVersion = new Map<number, ScoringModel>();

function cache(version: number, definition: unknown): ScoringModel {
  let model = byVersion.get(version);
  if (!model) {
    model = modelSchema.parse(definition);
    byVersion.set(version, model);
  }
  return model;
}

export function loadModelFile(path: string = DEFAULT_MODEL_FILE): ScoringModel {
  return parseModelText(readFileSync(path, "utf8"), path);
}

export async function activeModel(db: DbOrTx): Promise<ActiveModel> {
  const [row] = await db
    .select({
      version: models.version,
      definition: models.definition,
      createdAt: models.createdAt,
      createdBy: models.createdBy,
    })
    .from(models)
    .orderBy(desc(models.version))
    .limit(1);
  if (!row) throw new NotFoundError("No scoring model is active yet; start the app once to load the default.");
  return { ...row, model: cache(row.version, row.definition) };
}

export async function modelByVersion(db: DbOrTx, version: number): Promise<ScoringModel> {
  const hit = byVersion.get(version);
  if (hit) return hit;
  const [row] = await db
    .select({ definition: models.definition })
    .from(models)
    .where(eq(models.version, version));
  if (!row) throw new NotFoundError(`Scoring model version ${version} does not exist.`);
  return cache(version, row.definition);
}

/** Loads the default (or given) model when the store has none. Returns the active version. */
export async function ensureModel(db: DbOrTx, file?: string): Promise<ActiveModel> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(models);
  if ((row?.n ?? 0) === 0) {
    await insertModelVersion(db, loadModelFile(file), { by: "system", note: "initial model" });
  }
  return activeModel(db);
}

export interface NewVersionOptions {
  by: string;
  note?: string;
  proposalId?: number;
}

/**
 * Writes the next model version; it becomes active when the transaction commits. Callers
 * rescore afterwards (see rescoreAll).
 */
export async function insertModelVersion(
  db: DbOrTx,
  model: ScoringModel,
  opts: NewVersionOptions,
): Promise<number> {
  const parsed = modelSchema.parse(model);
  const [inserted] = await db
    .insert(models)
    .values({
      version: sql`(select coalesce(max(version), 0) + 1 from ${models})`,
      definition: parsed,
      createdBy: opts.by,
      note: opts.note ?? null,
      proposalId: opts.proposalId ?? null,
    })
    .returning({ version: models.version });
  if (!inserted) throw new Error("model version insert returned nothing");
  await db.insert(auditLog).values({
    actor: opts.by,
    action: "model.activated",
    subject: `model:${inserted.version}`,
    details: { note: opts.note ?? null, proposalId: opts.proposalId ?? null },
  });
  cache(inserted.version, parsed);
  return inserted.version;
}

export async function listModelVersions(db: DbOrTx, limit = 20) {
  return db
    .select({
      version: models.version,
      createdBy: models.createdBy,
      createdAt: models.createdAt,
      note: models.note,
      proposalId: models.proposalId,
    })
    .from(models)
    .orderBy(desc(models.version))
    .limit(limit);
}

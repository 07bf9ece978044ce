import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { modelSchema, type ScoringModel } from "../core/model.js";
import { parseModelText } from "../core/model-file.js";
import type { DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  countModels,
  insertModel,
  latestModel,
  modelDefinition,
  modelVersions,
  versionOfProposal,
} from "../db/queries/models.js";
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

/**
 * Parsed definitions, keyed by their stored text: parsing happens once per definition per
 * process, and a key cannot go stale the way a version number can when a store is reset.
 */
const parsedByText = new Map<string, ScoringModel>();
/** Parsed definitions kept at most; a process sees a handful of versions in practice. */
const PARSED_CACHE_LIMIT = 64;

function cache(definition: unknown): ScoringModel {
  const key = JSON.stringify(definition);
  let model = parsedByText.get(key);
  if (!model) {
    model = modelSchema.parse(definition);
    if (parsedByText.size >= PARSED_CACHE_LIMIT) parsedByText.clear();
    parsedByText.set(key, model);
  }
  return model;
}

export function loadModelFile(path: string = DEFAULT_MODEL_FILE): ScoringModel {
  return parseModelText(readFileSync(path, "utf8"), path);
}

/**
 * Active models by version and creation time to the microsecond: every event batch asks for the
 * active model, and this spares it reading and keying the whole definition. Model rows are never
 * updated, and a store that is reset and reloaded gives its first version another creation time.
 */
const byVersionStamp = new Map<string, ScoringModel>();

export async function activeModel(db: DbOrTx): Promise<ActiveModel> {
  const row = await latestModel(db);
  if (!row)
    throw new NotFoundError(
      "No scoring model is active yet; start the app once to load the default.",
    );
  const key = `${row.version}@${row.stamp}`;
  let model = byVersionStamp.get(key);
  if (!model) {
    model = await modelByVersion(db, row.version);
    if (byVersionStamp.size >= PARSED_CACHE_LIMIT) byVersionStamp.clear();
    byVersionStamp.set(key, model);
  }
  const { stamp: _, ...active } = row;
  return { ...active, model };
}

export async function modelByVersion(db: DbOrTx, version: number): Promise<ScoringModel> {
  const definition = await modelDefinition(db, { version });
  if (definition === undefined)
    throw new NotFoundError(`Scoring model version ${version} does not exist.`);
  return cache(definition);
}

/** Loads the default (or given) model when the store has none. Returns the active version. */
export async function ensureModel(db: DbOrTx, file?: string): Promise<ActiveModel> {
  if ((await countModels(db)) === 0) {
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
  const version = await insertModel(db, {
    definition: parsed,
    by: opts.by,
    note: opts.note ?? null,
    proposalId: opts.proposalId ?? null,
  });
  await insertAudit(db, {
    actor: opts.by,
    action: "model.activated",
    subject: `model:${version}`,
    details: { note: opts.note ?? null, proposalId: opts.proposalId ?? null },
  });
  return version;
}

export function listModelVersions(db: DbOrTx, limit = 20) {
  return modelVersions(db, { limit });
}

/** The version a proposal's approval activated, when it was approved. */
export function versionApprovedBy(db: DbOrTx, proposalId: number): Promise<number | undefined> {
  return versionOfProposal(db, { proposalId });
}

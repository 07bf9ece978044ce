import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describeChange, diffModels } from "../core/diff.js";
import { DEFAULT_MODEL_KEY, modelSchema, type ScoringModel } from "../core/model.js";
import { parseModelText } from "../core/model-file.js";
import { ModelSet, modelKeyOf } from "../core/segments.js";
import type { DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  activeVersions,
  countModels,
  insertModel,
  latestModel,
  modelDefinition,
  modelHistoryRows,
  modelVersions,
  versionOfProposal,
} from "../db/queries/models.js";
import { NotFoundError } from "./errors.js";

export const DEFAULT_MODEL_FILE = fileURLToPath(
  new URL("../config/default-model.yaml", import.meta.url),
);

export interface ActiveModel {
  /** The model's key (`default`, `emea`). */
  key: string;
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

/** A model's active version: the default model's unless a key is given. */
export async function activeModel(
  db: DbOrTx,
  key: string = DEFAULT_MODEL_KEY,
): Promise<ActiveModel> {
  const row = await latestModel(db, { key });
  if (!row)
    throw new NotFoundError(
      key === DEFAULT_MODEL_KEY
        ? "No scoring model is active yet; start the app once to load the default."
        : `No model has the key "${key}".`,
    );
  const model = await cachedVersion(db, row.version, row.stamp);
  const { stamp: _, ...active } = row;
  return { ...active, key, model };
}

async function cachedVersion(db: DbOrTx, version: number, stamp: string): Promise<ScoringModel> {
  const cacheKey = `${version}@${stamp}`;
  let model = byVersionStamp.get(cacheKey);
  if (!model) {
    model = await modelByVersion(db, version);
    if (byVersionStamp.size >= PARSED_CACHE_LIMIT) byVersionStamp.clear();
    byVersionStamp.set(cacheKey, model);
  }
  return model;
}

/** Active model sets by the versions and stamps of their members: one per change of any model. */
const setsByStamps = new Map<string, ModelSet<ActiveModel>>();

/**
 * Every active model, in the order leads are offered to them (see ModelSet). Asked for by every
 * event batch: one small query, and the set is built once per combination of active versions.
 */
export async function activeModels(db: DbOrTx): Promise<ModelSet<ActiveModel>> {
  const rows = await activeVersions(db);
  if (rows.length === 0)
    throw new NotFoundError(
      "No scoring model is active yet; start the app once to load the default.",
    );
  const cacheKey = rows.map((r) => `${r.key}:${r.version}@${r.stamp}`).join(",");
  let set = setsByStamps.get(cacheKey);
  if (!set) {
    const members: ActiveModel[] = [];
    for (const r of rows) {
      members.push({
        key: r.key,
        version: r.version,
        createdAt: new Date(r.created_at),
        createdBy: r.created_by,
        model: await cachedVersion(db, r.version, r.stamp),
      });
    }
    set = new ModelSet(members);
    if (setsByStamps.size >= PARSED_CACHE_LIMIT) setsByStamps.clear();
    setsByStamps.set(cacheKey, set);
  }
  return set;
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
  const key = modelKeyOf(parsed);
  const version = await insertModel(db, {
    key,
    definition: parsed,
    by: opts.by,
    note: opts.note ?? null,
    proposalId: opts.proposalId ?? null,
  });
  await insertAudit(db, {
    actor: opts.by,
    action: "model.activated",
    subject: `model:${version}`,
    details: { key, note: opts.note ?? null, proposalId: opts.proposalId ?? null },
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

/** One version as the history shows it: who proposed and approved it, when, why, and the diff. */
export interface VersionHistory {
  version: number;
  createdAt: Date;
  /** Who approved it (or loaded it, for a version made without a proposal). */
  approvedBy: string;
  proposalId: number | null;
  proposedBy: string | null;
  /** The proposer's reason. */
  reason: string | null;
  /** The approver's comment. */
  comment: string | null;
  note: string | null;
  /** What changed from the version before, one sentence each; empty for the first version. */
  changes: string[];
}

/** The newest `limit` versions, newest first, each with its diff from the version before it. */
export async function modelHistory(db: DbOrTx, limit = 20): Promise<VersionHistory[]> {
  // One more row than shown: the oldest version shown needs its predecessor for its diff.
  const rows = await modelHistoryRows(db, { limit: limit + 1 });
  return rows.slice(0, limit).map((r, i) => {
    const prev = rows[i + 1];
    return {
      version: r.version,
      createdAt: r.createdAt,
      approvedBy: r.createdBy,
      proposalId: r.proposalId,
      proposedBy: r.proposedBy,
      reason: r.reason,
      comment: r.comment,
      note: r.note,
      changes: prev
        ? diffModels(cache(prev.definition), cache(r.definition)).map(describeChange)
        : [],
    };
  });
}

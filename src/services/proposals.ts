// Over 400 lines on purpose: one proposal's life (preview, create, refuse, decide, rescore) reads
// best in one place, and each step shares the same staleness and permission rules.
import { describeChange, diffModels, withThresholds, withWeights } from "../core/diff.js";
import { type Impact, ImpactAccumulator } from "../core/impact.js";
import { DEFAULT_MODEL_KEY, type ScoringModel } from "../core/model.js";
import { ModelFileError, parseModelText, parseModelValue } from "../core/model-file.js";
import { describeSegment, type KeyedModel, ModelSet, modelKeyOf } from "../core/segments.js";
import type { Db, DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  claimAnnouncement as claimAnnouncementRow,
  claimUnannounced as claimUnannouncedRows,
  countRecentProposals,
  insertProposal,
  insertProposalMessages,
  lockApprovals,
  type ProposalMessage,
  type ProposalRow,
  pendingProposals as pendingProposalRows,
  proposalById,
  proposalMessagesOf,
  setDecision,
} from "../db/queries/proposals.js";
import { impactPage } from "../db/queries/scores.js";
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidModelError,
  NotFoundError,
  RateLimitedError,
} from "./errors.js";
import { type ActiveModel, activeModel, activeModels, insertModelVersion } from "./models.js";
import { type RescoreResult, rescoreForModelChange, startModelChangeRun } from "./rescore.js";
import { leadFacts } from "./scoring.js";
import { canApprove, roleOf } from "./team.js";

/** Leads read per query while measuring impact: bounded memory at any store size. */
const IMPACT_CHUNK = 5_000;

export type { Impact, ProposalMessage, ProposalRow };

/**
 * A change to one model: thresholds or weights of the model named by `modelKey` (the default
 * model when left out), or a whole candidate model (a file, the API, any form that edits more),
 * as data or as YAML text, which names its own key; a key no model has yet proposes a new model.
 */
export type ProposedChange =
  | {
      kind: "thresholds";
      thresholds: Partial<ScoringModel["thresholds"]>;
      modelKey?: string | undefined;
    }
  | { kind: "weights"; weights: Record<string, number>; modelKey?: string | undefined }
  | { kind: "model"; model: unknown }
  | { kind: "model"; yaml: string; source?: string | undefined };

/** A whole candidate model, validated by the model schema; refusals name the field (and line). */
export function candidateModel(change: Extract<ProposedChange, { kind: "model" }>): ScoringModel {
  try {
    return "yaml" in change
      ? parseModelText(change.yaml, change.source ?? "model.yaml")
      : parseModelValue(change.model);
  } catch (err) {
    if (err instanceof ModelFileError) {
      throw new InvalidModelError(
        err.issues.map((i) => ({ field: i.path, line: i.line, message: i.message })),
      );
    }
    throw err;
  }
}

export function applyChange(model: ScoringModel, change: ProposedChange): ScoringModel {
  switch (change.kind) {
    case "thresholds":
      return withThresholds(model, change.thresholds);
    case "weights":
      return withWeights(model, change.weights);
    case "model":
      return candidateModel(change);
  }
}

/** The key of the model a change is for. */
export function changeKey(change: ProposedChange): string {
  return change.kind === "model"
    ? modelKeyOf(candidateModel(change))
    : (change.modelKey ?? DEFAULT_MODEL_KEY);
}

/** A model's active version, or undefined when no model has that key yet. */
async function activeOrNone(db: DbOrTx, key: string): Promise<ActiveModel | undefined> {
  try {
    return await activeModel(db, key);
  } catch (err) {
    if (err instanceof NotFoundError && key !== DEFAULT_MODEL_KEY) return undefined;
    throw err;
  }
}

/** What a model would do to the stored leads, streamed over every lead in id order. */
export async function measureImpact(
  db: DbOrTx,
  current: ScoringModel,
  proposed: ScoringModel,
  now: number,
): Promise<Impact> {
  const acc = new ImpactAccumulator(current, proposed, now);
  const key = modelKeyOf(proposed);
  const active = await activeModels(db);
  // With one model before and after, every lead is its lead and no segment needs evaluating.
  const next =
    active.ordered.length === 1 && active.get(key)
      ? undefined
      : new ModelSet<KeyedModel>(active.ordered).with({ key, version: 0, model: proposed });
  let after = 0;
  for (;;) {
    const rows = await impactPage(db, { after, limit: IMPACT_CHUNK });
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.id ?? after;
    for (const r of rows) {
      const lead = leadFacts(r);
      const input = { lead, activity: r.act, stage: r.stage, outcome: r.outcome ?? undefined };
      if (!next) {
        acc.add(input);
        continue;
      }
      // A change to one model touches the leads it scores now and those it would score.
      const to = next.pick(lead);
      if (r.model_key === key || to.key === key) acc.add(input, to.model);
    }
  }
  return acc.result();
}

export interface Preview {
  baseVersion: number;
  model: ScoringModel;
  changes: string[];
  impact: Impact;
}

/** The diff and impact of a change, without storing anything: what a modal shows before submit. */
export async function previewChange(db: Db, change: ProposedChange, now: number): Promise<Preview> {
  const key = changeKey(change);
  const active = await activeOrNone(db, key);
  if (!active) {
    if (change.kind !== "model")
      throw new NotFoundError(`No model has the key "${key}"; propose a whole model to create it.`);
    const model = candidateModel(change);
    // A new model is measured against the models that score its leads today.
    const from = (await activeModels(db)).ordered.at(-1)?.model ?? model;
    return {
      baseVersion: 0,
      model,
      changes: [`New model ${key} (${model.name}) for ${describeSegment(model)}`],
      impact: await measureImpact(db, from, model, now),
    };
  }
  const model = applyChange(active.model, change);
  const changes = diffModels(active.model, model).map(describeChange);
  if (changes.length === 0) {
    throw new DomainError(
      "no_change",
      "Nothing changed: edit at least one value before submitting.",
    );
  }
  return {
    baseVersion: active.version,
    model,
    changes,
    impact: await measureImpact(db, active.model, model, now),
  };
}

/** The proposals window: each proposal DMs every manager, so one person's are counted per hour. */
const PROPOSAL_WINDOW_S = 3_600;

/**
 * Refuses a proposal from someone who made `perHour` in the last hour, with the limit in the
 * sentence. Two submissions at the same instant may both pass: the limit bounds, it is not a quota.
 */
export async function checkProposalAllowance(
  db: DbOrTx,
  p: { by: string; perHour: number },
): Promise<void> {
  const made = await countRecentProposals(db, { by: p.by, seconds: PROPOSAL_WINDOW_S });
  if (made >= p.perHour) {
    throw new RateLimitedError(
      `You have made ${made} model-change proposals in the last hour; the limit is ${p.perHour} an hour (LEADBOT_PROPOSALS_PER_HOUR). Try again later, or wait for a manager to decide the pending ones.`,
    );
  }
}

export async function createProposal(
  db: Db,
  p: {
    change: ProposedChange;
    by: string;
    note?: string | undefined;
    now: number;
    perHour?: number | undefined;
    /**
     * Rows that belong with the proposal (a learned one's evidence), written in its transaction:
     * whoever posts it (the announcer polls for unposted proposals) sees them or no proposal.
     */
    with?: ((tx: DbOrTx, proposal: ProposalRow) => Promise<unknown>) | undefined;
  },
) {
  if (p.perHour !== undefined) await checkProposalAllowance(db, { by: p.by, perHour: p.perHour });
  const preview = await previewChange(db, p.change, p.now);
  const row = await db.transaction(async (tx) => {
    const created = await insertProposal(tx, {
      kind: p.change.kind,
      baseVersion: preview.baseVersion,
      definition: preview.model,
      modelKey: changeKey(p.change),
      diff: preview.changes,
      impact: preview.impact,
      status: "pending",
      proposedBy: p.by,
      note: p.note ?? null,
      // Not posted yet: whoever claims it first (the Slack form that made it, or the announcer).
      announcedAt: null,
    });
    await insertAudit(tx, {
      actor: p.by,
      action: "proposal.created",
      subject: `proposal:${created.id}`,
      details: { kind: p.change.kind, model: changeKey(p.change), changes: preview.changes },
    });
    await p.with?.(tx, created);
    return created;
  });
  return { proposal: row, preview };
}

export async function getProposal(db: DbOrTx, id: number): Promise<ProposalRow> {
  const row = await proposalById(db, { id });
  if (!row) throw new NotFoundError(`No proposal has id ${id}.`);
  return row;
}

export function pendingProposals(db: DbOrTx): Promise<ProposalRow[]> {
  return pendingProposalRows(db);
}

/**
 * Why `by` may not decide `proposal`, as the sentence they see; undefined when they may. Only
 * managers and admins decide, only pending proposals, and never their own. (A stale base is
 * refused on approval only: rejecting an outdated proposal is fine.)
 */
export async function refusalToDecide(
  db: DbOrTx,
  p: { proposal: ProposalRow; by: string; admins: readonly string[] },
): Promise<DomainError | undefined> {
  if (!canApprove(await roleOf(db, p.by, p.admins))) {
    return new ForbiddenError(
      "Only managers can approve or reject model changes. An admin can make you one with /lead role @you manager.",
    );
  }
  if (p.proposal.status !== "pending") {
    return new ConflictError(
      "proposal_decided",
      p.proposal.decidedBy
        ? `This proposal was already ${p.proposal.status} by {decidedBy}.`
        : `This proposal was already ${p.proposal.status}.`,
      p.proposal.decidedBy ? { decidedBy: p.proposal.decidedBy } : {},
    );
  }
  if (p.proposal.proposedBy === p.by) {
    return new ForbiddenError(
      "You proposed this change, so another manager has to approve or reject it.",
    );
  }
  return undefined;
}

export type Decision = "approve" | "reject";

/**
 * Why approving `proposal` would act on an outdated model, or undefined when its base is still the
 * active version of its own model: staleness is per model, so another model's new version leaves
 * this proposal current. `active` is its model's active version (none yet for a new model).
 */
function staleness(
  proposal: ProposalRow,
  active: ActiveModel | undefined,
): ConflictError | undefined {
  const activeVersion = active?.version ?? 0;
  if (activeVersion === proposal.baseVersion) return undefined;
  return new ConflictError(
    "proposal_stale",
    proposal.baseVersion === 0
      ? `Model ${proposal.modelKey} was created since this was proposed (v${activeVersion} is active now). Propose the change again from the current values.`
      : `The model changed since this was proposed (it was based on v${proposal.baseVersion}; v${activeVersion} is active now). Propose the change again from the current values.`,
  );
}

export interface DecisionResult {
  proposalId: number;
  /** The model the proposal changed (or created). */
  modelKey?: string;
  status: "approved" | "rejected";
  version?: number;
  rescore?: RescoreResult;
  changes: string[];
}

/**
 * Approves or rejects a proposal. Only managers and admins decide, never on their own proposal,
 * and never on one whose base model is no longer the active one. Approval activates the new
 * version atomically, then rescores every lead.
 */
export async function decideProposal(
  db: Db,
  p: {
    id: number;
    by: string;
    decision: Decision;
    admins: readonly string[];
    now: number;
    note?: string;
    /** LEADBOT_ALERT_BURST for the rescore after an approval. */
    alertBurst?: number | undefined;
  },
): Promise<DecisionResult> {
  let base: ScoringModel | undefined;
  let decided: {
    status: "approved" | "rejected";
    version: number | undefined;
    changes: string[];
    modelKey: string;
    /** The rescore run recorded with the activation. */
    runId: number | undefined;
  };
  try {
    decided = await db.transaction(async (tx) => {
      await lockApprovals(tx);
      const proposal = await getProposal(tx, p.id);
      const refusal = await refusalToDecide(tx, { proposal, by: p.by, admins: p.admins });
      if (refusal) throw refusal;
      const active = await activeOrNone(tx, proposal.modelKey);
      base = active?.model;
      const stale = p.decision === "approve" ? staleness(proposal, active) : undefined;
      if (stale) throw stale;
      const status = p.decision === "approve" ? "approved" : "rejected";
      let version: number | undefined;
      let runId: number | undefined;
      if (p.decision === "approve") {
        version = await insertModelVersion(tx, proposal.definition, {
          by: p.by,
          note: `proposal ${proposal.id} by ${proposal.proposedBy}`,
          proposalId: proposal.id,
        });
        // With the activation: a process that dies before the scores follow leaves the run to
        // the next look for unfinished rescores, instead of stale scores.
        runId = await startModelChangeRun(tx, { modelKey: proposal.modelKey, cause: "model" });
      }
      await setDecision(tx, {
        id: proposal.id,
        status,
        by: p.by,
        at: new Date(p.now),
        note: p.note ?? null,
      });
      await insertAudit(tx, {
        actor: p.by,
        action: `proposal.${status}`,
        subject: `proposal:${proposal.id}`,
        details: { version: version ?? null, ...(p.note ? { note: p.note } : {}) },
      });
      return {
        status,
        version,
        changes: (proposal.diff as string[]) ?? [],
        modelKey: proposal.modelKey,
        runId,
      } as const;
    });
  } catch (err) {
    // The refusal is what the caller must see, even when its audit row cannot be written.
    if (err instanceof DomainError)
      await auditRefusal(db, p.by, p.id, p.decision, err).catch(() => undefined);
    throw err;
  }
  const { runId, ...outcome } = decided;
  const result: DecisionResult = { proposalId: p.id, ...outcome };
  if (decided.version !== undefined) {
    result.rescore = await rescoreForModelChange(db, base, {
      now: p.now,
      cause: "model",
      key: decided.modelKey,
      alertBurst: p.alertBurst,
      runId,
    });
    await insertAudit(db, {
      actor: p.by,
      action: "model.rescored",
      subject: `model:${decided.version}`,
      details: {
        proposalId: p.id,
        scored: result.rescore.scored,
        changed: result.rescore.changed,
        transitions: result.rescore.transitions,
        plan: result.rescore.plan,
      },
    });
  }
  return result;
}

/** Records a refused decision: who tried what, and why it was refused. */
async function auditRefusal(
  db: DbOrTx,
  by: string,
  id: number,
  decision: Decision,
  err: DomainError,
): Promise<void> {
  await insertAudit(db, {
    actor: by,
    action: "proposal.refused",
    subject: `proposal:${id}`,
    details: { decision, reason: err.code },
  });
}

/**
 * Why `by` may not make `decision` on proposal `id`, checked ahead of the decision itself (before
 * a reason is asked for); a refusal is audited like one made on deciding.
 */
export async function checkDecider(
  db: DbOrTx,
  p: { id: number; by: string; decision: Decision; admins: readonly string[] },
): Promise<DomainError | undefined> {
  const proposal = await getProposal(db, p.id);
  const refusal = await refusalToDecide(db, { proposal, by: p.by, admins: p.admins });
  if (refusal) await auditRefusal(db, p.by, p.id, p.decision, refusal);
  if (refusal || p.decision !== "approve") return refusal;
  // Checked again, inside its transaction, when the decision is made.
  return staleness(proposal, await activeOrNone(db, proposal.modelKey));
}

/** Audit actor of what the app does on its own. */
export const SYSTEM_ACTOR = "system";

/**
 * Records where a proposal was posted (so its messages can be rewritten once it is decided), and
 * audits who was asked.
 */
export async function recordProposalMessages(
  db: Db,
  proposalId: number,
  messages: readonly ProposalMessage[],
): Promise<void> {
  await db.transaction(async (tx) => {
    await insertProposalMessages(tx, { proposalId, messages });
    await insertAudit(tx, {
      actor: SYSTEM_ACTOR,
      action: "proposal.posted",
      subject: `proposal:${proposalId}`,
      details: { messages: messages.map((m) => ({ ...m })) },
    });
  });
}

export function proposalMessages(db: DbOrTx, proposalId: number): Promise<ProposalMessage[]> {
  return proposalMessagesOf(db, { proposalId });
}

/** Proposals to post now: pending ones nobody has posted; each is handed to one caller only. */
export function claimUnannounced(db: DbOrTx, now: number, limit = 20): Promise<ProposalRow[]> {
  return claimUnannouncedRows(db, { at: new Date(now), limit });
}

/** Claims one proposal for posting; false when it was claimed already. */
export function claimAnnouncement(db: DbOrTx, id: number, now: number): Promise<boolean> {
  return claimAnnouncementRow(db, { id, at: new Date(now) });
}

import { describeChange, diffModels, withThresholds, withWeights } from "../core/diff.js";
import { type Impact, ImpactAccumulator } from "../core/impact.js";
import type { ScoringModel } from "../core/model.js";
import type { Db, DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
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
  NotFoundError,
  RateLimitedError,
} from "./errors.js";
import { activeModel, insertModelVersion } from "./models.js";
import { type RescoreResult, rescoreForModelChange } from "./rescore.js";
import { leadFacts } from "./scoring.js";
import { canApprove, roleOf } from "./team.js";

/** Leads read per query while measuring impact: bounded memory at any store size. */
const IMPACT_CHUNK = 5_000;

export type { Impact, ProposalMessage, ProposalRow };

export type ProposedChange =
  | { kind: "thresholds"; thresholds: Partial<ScoringModel["thresholds"]> }
  | { kind: "weights"; weights: Record<string, number> };

export function applyChange(model: ScoringModel, change: ProposedChange): ScoringModel {
  return change.kind === "thresholds"
    ? withThresholds(model, change.thresholds)
    : withWeights(model, change.weights);
}

/** What a model would do to the stored leads, streamed over every lead in id order. */
export async function measureImpact(
  db: DbOrTx,
  current: ScoringModel,
  proposed: ScoringModel,
  now: number,
): Promise<Impact> {
  const acc = new ImpactAccumulator(current, proposed, now);
  let after = 0;
  for (;;) {
    const rows = await impactPage(db, { after, limit: IMPACT_CHUNK });
    if (rows.length === 0) break;
    after = rows[rows.length - 1]?.id ?? after;
    for (const r of rows) {
      acc.add({
        lead: leadFacts(r),
        activity: r.act,
        stage: r.stage,
        outcome: r.outcome ?? undefined,
      });
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
  const active = await activeModel(db);
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
  },
) {
  if (p.perHour !== undefined) await checkProposalAllowance(db, { by: p.by, perHour: p.perHour });
  const preview = await previewChange(db, p.change, p.now);
  const row = await insertProposal(db, {
    kind: p.change.kind,
    baseVersion: preview.baseVersion,
    definition: preview.model,
    diff: preview.changes,
    impact: preview.impact,
    status: "pending",
    proposedBy: p.by,
    note: p.note ?? null,
  });
  await insertAudit(db, {
    actor: p.by,
    action: "proposal.created",
    subject: `proposal:${row.id}`,
    details: { kind: p.change.kind, changes: preview.changes },
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

export interface DecisionResult {
  proposalId: number;
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
  },
): Promise<DecisionResult> {
  let base: ScoringModel | undefined;
  let decided: { status: "approved" | "rejected"; version: number | undefined; changes: string[] };
  try {
    decided = await db.transaction(async (tx) => {
      await lockApprovals(tx);
      const proposal = await getProposal(tx, p.id);
      const refusal = await refusalToDecide(tx, { proposal, by: p.by, admins: p.admins });
      if (refusal) throw refusal;
      const active = await activeModel(tx);
      base = active.model;
      if (p.decision === "approve" && active.version !== proposal.baseVersion) {
        throw new ConflictError(
          "proposal_stale",
          `The model changed since this was proposed (it was based on v${proposal.baseVersion}; v${active.version} is active now). Propose the change again from the current values.`,
        );
      }
      const status = p.decision === "approve" ? "approved" : "rejected";
      let version: number | undefined;
      if (p.decision === "approve") {
        version = await insertModelVersion(tx, proposal.definition, {
          by: p.by,
          note: `proposal ${proposal.id} by ${proposal.proposedBy}`,
          proposalId: proposal.id,
        });
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
        details: { version: version ?? null },
      });
      return { status, version, changes: (proposal.diff as string[]) ?? [] } as const;
    });
  } catch (err) {
    // The refusal is what the caller must see, even when its audit row cannot be written.
    if (err instanceof DomainError)
      await auditRefusal(db, p.by, p.id, p.decision, err).catch(() => undefined);
    throw err;
  }
  const result: DecisionResult = { proposalId: p.id, ...decided };
  if (decided.version !== undefined && base) {
    result.rescore = await rescoreForModelChange(db, base, { now: p.now, cause: "model" });
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
  const refusal = await refusalToDecide(db, {
    proposal: await getProposal(db, p.id),
    by: p.by,
    admins: p.admins,
  });
  if (refusal) await auditRefusal(db, p.by, p.id, p.decision, refusal);
  return refusal;
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

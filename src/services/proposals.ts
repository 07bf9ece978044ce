import { desc, eq, sql } from "drizzle-orm";
import { describeChange, diffModels, withThresholds, withWeights } from "../core/diff.js";
import { type Impact, ImpactAccumulator } from "../core/impact.js";
import type { Activity, ScoringModel, Stage } from "../core/model.js";
import { type Db, type DbOrTx, execRows } from "../db/client.js";
import { auditLog, proposals } from "../db/schema.js";
import { ConflictError, DomainError, ForbiddenError, NotFoundError } from "./errors.js";
import { activeModel, insertModelVersion } from "./models.js";
import { type RescoreResult, rescoreForModelChange } from "./rescore.js";
import { leadFacts } from "./scoring.js";
import { canApprove, roleOf } from "./team.js";

/** Leads read per query while measuring impact: bounded memory at any store size. */
const IMPACT_CHUNK = 5_000;
/** Serialises approvals so two managers cannot both activate a change on the same base. */
const APPROVAL_LOCK_KEY = 7_240_113_002;

export type { Impact };

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
    const rows = await execRows<
      Parameters<typeof leadFacts>[0] & {
        stage: Stage;
        act: Activity;
        outcome: "won" | "lost" | "not_a_fit" | null;
      }
    >(
      db,
      sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title, l.company,
            l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner, l.attributes,
            s.stage, s.activity as act,
            (select o.outcome from outcomes o where o.lead_id = l.id
              order by o.created_at desc, o.id desc limit 1) as outcome
          from leads l join lead_scores s on s.lead_id = l.id
          where l.id > ${after} order by l.id limit ${IMPACT_CHUNK}`,
    );
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

export async function createProposal(
  db: Db,
  p: { change: ProposedChange; by: string; note?: string | undefined; now: number },
) {
  const preview = await previewChange(db, p.change, p.now);
  const [row] = await db
    .insert(proposals)
    .values({
      kind: p.change.kind,
      baseVersion: preview.baseVersion,
      definition: preview.model,
      diff: preview.changes,
      impact: preview.impact,
      status: "pending",
      proposedBy: p.by,
      note: p.note ?? null,
    })
    .returning();
  if (!row) throw new Error("proposal insert returned nothing");
  await db.insert(auditLog).values({
    actor: p.by,
    action: "proposal.created",
    subject: `proposal:${row.id}`,
    details: { kind: p.change.kind, changes: preview.changes },
  });
  return { proposal: row, preview };
}

export async function getProposal(db: DbOrTx, id: number) {
  const [row] = await db.select().from(proposals).where(eq(proposals.id, id));
  if (!row) throw new NotFoundError(`No proposal has id ${id}.`);
  return row;
}

export async function pendingProposals(db: DbOrTx) {
  return db
    .select()
    .from(proposals)
    .where(eq(proposals.status, "pending"))
    .orderBy(desc(proposals.id));
}

/**
 * Why `by` may not decide `proposal`, as the sentence they see; undefined when they may. Only
 * managers and admins decide, only pending proposals, and never their own. (A stale base is
 * refused on approval only: rejecting an outdated proposal is fine.)
 */
export async function refusalToDecide(
  db: DbOrTx,
  p: { proposal: Awaited<ReturnType<typeof getProposal>>; by: string; admins: readonly string[] },
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
  const decided = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${APPROVAL_LOCK_KEY})`);
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
    await tx
      .update(proposals)
      .set({ status, decidedBy: p.by, decidedAt: new Date(p.now), decisionNote: p.note ?? null })
      .where(eq(proposals.id, proposal.id));
    await tx.insert(auditLog).values({
      actor: p.by,
      action: `proposal.${status}`,
      subject: `proposal:${proposal.id}`,
      details: { version: version ?? null },
    });
    return { status, version, changes: (proposal.diff as string[]) ?? [] } as const;
  });
  const result: DecisionResult = { proposalId: p.id, ...decided };
  if (decided.version !== undefined && base) {
    result.rescore = await rescoreForModelChange(db, base, { now: p.now, cause: "model" });
  }
  return result;
}

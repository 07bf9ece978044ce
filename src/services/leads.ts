import type { BreakdownEntry, Stage } from "../core/model.js";
import type { Db, DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  deleteLead,
  findLeads as findLeadRows,
  type LeadSummary,
  leadIdByKey,
  leadWithScore,
  scoreHistoryOf,
  topLeads as topLeadRows,
  transitionsOf,
} from "../db/queries/leads.js";
import { closureOf, outcomesOf } from "../db/queries/outcomes.js";
import { latestAssignment } from "../db/queries/routing.js";
import { stageCounts as stageCountRows } from "../db/queries/scores.js";
import { NotFoundError } from "./errors.js";
import { emailSchema } from "./inputs.js";

/** Largest page of top leads one request returns. */
export const MAX_TOP = 500;

export type { LeadSummary };

/** Finds a lead by numeric id, email or externalId; the id of a missing one is a plain error. */
export async function resolveLeadId(db: DbOrTx, key: string): Promise<number> {
  const k = key.trim();
  // The unambiguous forms: `id:N` is the internal id, `ext:X` the externalId.
  const prefixed = /^(id|ext):(.+)$/i.exec(k);
  if (prefixed?.[1] && prefixed[2]) {
    const isId = prefixed[1].toLowerCase() === "id";
    const value = prefixed[2].trim();
    const found =
      isId && !/^\d+$/.test(value)
        ? undefined
        : await leadIdByKey(db, isId ? { id: Number(value) } : { externalId: value });
    if (found === undefined) throw new NotFoundError(`No lead matches "${k}".`);
    return found;
  }
  const email = emailSchema.safeParse(k);
  const id = await leadIdByKey(
    db,
    /^\d+$/.test(k) ? { id: Number(k) } : email.success ? { email: email.data } : { externalId: k },
  );
  if (id === undefined)
    throw new NotFoundError(`No lead matches "${k}". Use an email, a lead id or an externalId.`);
  return id;
}

export async function getLead(db: DbOrTx, key: string) {
  const id = await resolveLeadId(db, key);
  const row = await leadWithScore(db, { id });
  if (!row) throw new NotFoundError(`Lead ${id} no longer exists.`);
  const [history, transitions, outcomeRows, assignment, closure] = await Promise.all([
    scoreHistoryOf(db, { id }),
    transitionsOf(db, { id }),
    outcomesOf(db, { leadId: id }),
    latestAssignment(db, { leadId: id }),
    closureOf(db, { leadId: id }),
  ]);
  const { lead, score } = row;
  const breakdown: BreakdownEntry[] = score?.breakdown ?? [];
  return {
    id: lead.id,
    email: lead.email,
    externalId: lead.externalId,
    firstName: lead.firstName,
    lastName: lead.lastName,
    title: lead.title,
    company: lead.company,
    industry: lead.industry,
    employees: lead.employees,
    annualRevenue: lead.annualRevenue,
    country: lead.country,
    source: lead.source,
    owner: lead.owner,
    /** How the current owner got the lead: a routing rule, a claim or a person. */
    assignment: assignment && assignment.owner === lead.owner ? assignment : null,
    attributes: lead.attributes,
    createdAt: lead.createdAt,
    updatedAt: lead.updatedAt,
    score: score?.total ?? 0,
    fit: score?.fit ?? 0,
    engagement: score?.engagement ?? 0,
    grade: score?.grade ?? "D",
    level: score?.level ?? 4,
    matrix: `${score?.grade ?? "D"}${score?.level ?? 4}`,
    stage: (score?.stage ?? "lead") as Stage,
    modelVersion: score?.modelVersion ?? null,
    /** The model that scored the lead, as `{ key, version }`; null before the first score. */
    model: score ? { key: score.modelKey, version: score.modelVersion } : null,
    scoredAt: score?.scoredAt ?? null,
    lastEventAt: score?.lastEventAt ?? null,
    breakdown: [...breakdown].sort((a, b) => Math.abs(b.points) - Math.abs(a.points)),
    history,
    transitions,
    outcomes: outcomeRows,
    /** Set when a won or not-a-fit outcome closed the lead: its crossings raise no alert. */
    closed:
      closure && (closure.state === "won" || closure.state === "not_a_fit")
        ? { outcome: closure.state, reason: closure.reason, by: closure.byUser, at: closure.at }
        : null,
  };
}

export type LeadDetail = Awaited<ReturnType<typeof getLead>>;

export interface TopOptions {
  limit: number;
  stage?: Stage | "all" | undefined;
  owner?: string | undefined;
  offset?: number;
  /** Only leads scored by this model (by key). */
  model?: string | undefined;
}

/** The highest-scoring leads, served from the (stage, total) indexes. */
export async function topLeads(db: DbOrTx, opts: TopOptions): Promise<LeadSummary[]> {
  const limit = Math.min(Math.max(1, opts.limit), MAX_TOP);
  return topLeadRows(db, {
    limit,
    stage: opts.stage,
    owner: opts.owner,
    offset: opts.offset,
    model: opts.model,
  });
}

/** Leads whose name, email or company contains the text. */
export async function findLeads(db: DbOrTx, text: string, limit = 20): Promise<LeadSummary[]> {
  const needle = `%${text.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return findLeadRows(db, { pattern: needle, limit });
}

export function stageCounts(db: DbOrTx): Promise<Record<Stage, number>> {
  return stageCountRows(db);
}

/** Erases a lead and everything recorded about it; the audit keeps only that it happened. */
export async function eraseLead(db: Db, key: string, actor: string): Promise<{ id: number }> {
  return db.transaction(async (tx) => {
    const id = await resolveLeadId(tx, key);
    await deleteLead(tx, { id });
    await insertAudit(tx, { actor, action: "lead.erased", subject: `lead:${id}` });
    return { id };
  });
}

import { and, desc, eq, sql } from "drizzle-orm";
import type { BreakdownEntry, Stage } from "../core/model.js";
import { type Db, type DbOrTx, execRows } from "../db/client.js";
import {
  auditLog,
  leadScores,
  leads,
  outcomes,
  scoreHistory,
  stageTransitions,
} from "../db/schema.js";
import { NotFoundError } from "./errors.js";
import { emailSchema } from "./inputs.js";

/** Largest page of top leads one request returns. */
export const MAX_TOP = 500;
/** History entries returned with a lead: the recent story, not the archive. */
const HISTORY_LIMIT = 50;

export interface LeadSummary {
  id: number;
  email: string | null;
  externalId: string | null;
  name: string | null;
  title: string | null;
  company: string | null;
  owner: string | null;
  score: number;
  fit: number;
  engagement: number;
  grade: string;
  level: number;
  stage: Stage;
  scoredAt: Date | null;
}

const summaryColumns = {
  id: leads.id,
  email: leads.email,
  externalId: leads.externalId,
  name: sql<string | null>`nullif(trim(concat_ws(' ', ${leads.firstName}, ${leads.lastName})), '')`,
  title: leads.title,
  company: leads.company,
  owner: leads.owner,
  score: leadScores.total,
  fit: leadScores.fit,
  engagement: leadScores.engagement,
  grade: leadScores.grade,
  level: leadScores.level,
  stage: leadScores.stage,
  scoredAt: leadScores.scoredAt,
};

/** Finds a lead by numeric id, email or externalId; the id of a missing one is a plain error. */
export async function resolveLeadId(db: DbOrTx, key: string): Promise<number> {
  const k = key.trim();
  const email = emailSchema.safeParse(k);
  const where = /^\d+$/.test(k)
    ? eq(leads.id, Number(k))
    : email.success
      ? eq(leads.email, email.data)
      : eq(leads.externalId, k);
  const [row] = await db.select({ id: leads.id }).from(leads).where(where).limit(1);
  if (!row)
    throw new NotFoundError(`No lead matches "${k}". Use an email, a lead id or an externalId.`);
  return row.id;
}

export async function getLead(db: DbOrTx, key: string) {
  const id = await resolveLeadId(db, key);
  const [row] = await db
    .select({ lead: leads, score: leadScores })
    .from(leads)
    .leftJoin(leadScores, eq(leadScores.leadId, leads.id))
    .where(eq(leads.id, id));
  if (!row) throw new NotFoundError(`Lead ${id} no longer exists.`);
  const [history, transitions, outcomeRows] = await Promise.all([
    db
      .select({
        at: scoreHistory.at,
        score: scoreHistory.total,
        fit: scoreHistory.fit,
        engagement: scoreHistory.engagement,
        stage: scoreHistory.stage,
        modelVersion: scoreHistory.modelVersion,
        cause: scoreHistory.cause,
      })
      .from(scoreHistory)
      .where(eq(scoreHistory.leadId, id))
      .orderBy(desc(scoreHistory.at), desc(scoreHistory.id))
      .limit(HISTORY_LIMIT),
    db
      .select({
        at: stageTransitions.at,
        from: stageTransitions.fromStage,
        to: stageTransitions.toStage,
        score: stageTransitions.total,
        cause: stageTransitions.cause,
      })
      .from(stageTransitions)
      .where(eq(stageTransitions.leadId, id))
      .orderBy(desc(stageTransitions.at), desc(stageTransitions.id)),
    db
      .select({
        outcome: outcomes.outcome,
        reason: outcomes.reason,
        note: outcomes.note,
        by: outcomes.byUser,
        source: outcomes.source,
        at: outcomes.createdAt,
      })
      .from(outcomes)
      .where(eq(outcomes.leadId, id))
      .orderBy(desc(outcomes.createdAt)),
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
    scoredAt: score?.scoredAt ?? null,
    lastEventAt: score?.lastEventAt ?? null,
    breakdown: [...breakdown].sort((a, b) => Math.abs(b.points) - Math.abs(a.points)),
    history,
    transitions,
    outcomes: outcomeRows,
  };
}

export type LeadDetail = Awaited<ReturnType<typeof getLead>>;

export interface TopOptions {
  limit: number;
  stage?: Stage | "all" | undefined;
  owner?: string | undefined;
  offset?: number;
}

/** The highest-scoring leads, served from the (stage, total) indexes. */
export async function topLeads(db: DbOrTx, opts: TopOptions): Promise<LeadSummary[]> {
  const limit = Math.min(Math.max(1, opts.limit), MAX_TOP);
  const filters = [
    opts.stage && opts.stage !== "all" ? eq(leadScores.stage, opts.stage) : undefined,
    opts.owner ? eq(leads.owner, opts.owner) : undefined,
  ].filter((f) => f !== undefined);
  return db
    .select(summaryColumns)
    .from(leadScores)
    .innerJoin(leads, eq(leads.id, leadScores.leadId))
    .where(filters.length > 0 ? and(...filters) : undefined)
    .orderBy(desc(leadScores.total), leadScores.leadId)
    .limit(limit)
    .offset(opts.offset ?? 0) as Promise<LeadSummary[]>;
}

/** Leads whose name, email or company contains the text. */
export async function findLeads(db: DbOrTx, text: string, limit = 20): Promise<LeadSummary[]> {
  const needle = `%${text.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return db
    .select(summaryColumns)
    .from(leads)
    .innerJoin(leadScores, eq(leadScores.leadId, leads.id))
    .where(
      sql`${leads.email} ilike ${needle} or ${leads.company} ilike ${needle}
          or concat_ws(' ', ${leads.firstName}, ${leads.lastName}) ilike ${needle}`,
    )
    .orderBy(desc(leadScores.total))
    .limit(limit) as Promise<LeadSummary[]>;
}

export async function stageCounts(db: DbOrTx): Promise<Record<Stage, number>> {
  const rows = await execRows<{ stage: Stage; n: number }>(
    db,
    sql`select stage, count(*)::int as n from lead_scores group by stage`,
  );
  const counts: Record<Stage, number> = { lead: 0, mql: 0, sql: 0 };
  for (const r of rows) counts[r.stage] = r.n;
  return counts;
}

/** Erases a lead and everything recorded about it; the audit keeps only that it happened. */
export async function eraseLead(db: Db, key: string, actor: string): Promise<{ id: number }> {
  return db.transaction(async (tx) => {
    const id = await resolveLeadId(tx, key);
    await tx.delete(leads).where(eq(leads.id, id));
    await tx.insert(auditLog).values({ actor, action: "lead.erased", subject: `lead:${id}` });
    return { id };
  });
}

import { and, desc, eq, gte, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Stage } from "../../core/model.js";
import { type DbOrTx, execRows, preparedRows } from "../client.js";
import { leadScores, leads, scoreHistory, stageTransitions } from "../schema.js";

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
  /** The model (by key) that scored the lead. */
  model?: string;
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
  model: leadScores.modelKey,
};

/** How a lead is named: one of its keys. */
export type LeadKey = { id: number } | { email: string } | { externalId: string };

export async function leadIdByKey(db: DbOrTx, p: LeadKey): Promise<number | undefined> {
  const where =
    "id" in p
      ? eq(leads.id, p.id)
      : "email" in p
        ? eq(leads.email, p.email)
        : eq(leads.externalId, p.externalId);
  const [row] = await db.select({ id: leads.id }).from(leads).where(where).limit(1);
  return row?.id;
}

export async function leadWithScore(db: DbOrTx, p: { id: number }) {
  const [row] = await db
    .select({ lead: leads, score: leadScores })
    .from(leads)
    .leftJoin(leadScores, eq(leadScores.leadId, leads.id))
    .where(eq(leads.id, p.id));
  return row;
}

export function scoreHistoryOf(db: DbOrTx, p: { id: number }) {
  return db
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
    .where(eq(scoreHistory.leadId, p.id))
    .orderBy(desc(scoreHistory.at), desc(scoreHistory.id))
    .limit(HISTORY_LIMIT);
}

export function transitionsOf(db: DbOrTx, p: { id: number }) {
  return db
    .select({
      at: stageTransitions.at,
      from: stageTransitions.fromStage,
      to: stageTransitions.toStage,
      score: stageTransitions.total,
      cause: stageTransitions.cause,
    })
    .from(stageTransitions)
    .where(eq(stageTransitions.leadId, p.id))
    .orderBy(desc(stageTransitions.at), desc(stageTransitions.id));
}

export interface TopLeadsParams {
  limit: number;
  stage?: Stage | "all" | undefined;
  owner?: string | undefined;
  offset?: number | undefined;
  /** Only leads scored by this model (by key). */
  model?: string | undefined;
}

/** The plain top list, prepared once per database handle: built once, planned once per connection. */
function preparePlainTop(db: DbOrTx) {
  return db
    .select(summaryColumns)
    .from(leadScores)
    .innerJoin(leads, eq(leads.id, leadScores.leadId))
    .orderBy(desc(leadScores.total), leadScores.leadId)
    .limit(sql.placeholder("limit"))
    .offset(sql.placeholder("offset"))
    .prepare("leads_top");
}
const plainTops = new WeakMap<DbOrTx, ReturnType<typeof preparePlainTop>>();

/** The best-scoring leads with no filter: the hot read of the API, `/lead top` and dashboards. */
function plainTop(db: DbOrTx, limit: number, offset: number): Promise<LeadSummary[]> {
  let query = plainTops.get(db);
  if (!query) {
    query = preparePlainTop(db);
    plainTops.set(db, query);
  }
  return query.execute({ limit, offset }) as Promise<LeadSummary[]>;
}

/** The highest-scoring leads, served from the (stage, total) indexes. */
export function topLeads(db: DbOrTx, p: TopLeadsParams): Promise<LeadSummary[]> {
  const filters = [
    p.stage && p.stage !== "all" ? eq(leadScores.stage, p.stage) : undefined,
    p.owner ? eq(leads.owner, p.owner) : undefined,
    p.model ? eq(leadScores.modelKey, p.model) : undefined,
  ].filter((f) => f !== undefined);
  if (filters.length === 0) return plainTop(db, p.limit, p.offset ?? 0);
  return db
    .select(summaryColumns)
    .from(leadScores)
    .innerJoin(leads, eq(leads.id, leadScores.leadId))
    .where(filters.length > 0 ? and(...filters) : undefined)
    .orderBy(desc(leadScores.total), leadScores.leadId)
    .limit(p.limit)
    .offset(p.offset ?? 0) as Promise<LeadSummary[]>;
}

export interface FindLeadsParams {
  /** A LIKE pattern, already escaped. */
  pattern: string;
  limit: number;
}

/** Leads whose name, email or company matches the pattern. */
export function findLeads(db: DbOrTx, p: FindLeadsParams): Promise<LeadSummary[]> {
  return db
    .select(summaryColumns)
    .from(leads)
    .innerJoin(leadScores, eq(leadScores.leadId, leads.id))
    .where(
      sql`${leads.email} ilike ${p.pattern} or ${leads.company} ilike ${p.pattern}
          or concat_ws(' ', ${leads.firstName}, ${leads.lastName}) ilike ${p.pattern}`,
    )
    .orderBy(desc(leadScores.total))
    .limit(p.limit) as Promise<LeadSummary[]>;
}

export interface SearchLeadsParams {
  /** A LIKE pattern on name, email or company, already escaped. */
  pattern?: string | undefined;
  stage?: Stage | undefined;
  grades?: readonly string[] | undefined;
  levels?: readonly number[] | undefined;
  /** A user id; null asks for leads nobody owns. */
  owner?: string | null | undefined;
  minScore?: number | undefined;
  maxScore?: number | undefined;
  /** Last event at or after this time. */
  activeSince?: Date | undefined;
  /** The lead's latest outcome; "none" when it has none. */
  outcome?: "none" | "won" | "lost" | "not_a_fit" | undefined;
  /** Only leads scored by this model. */
  modelKey?: string | undefined;
  limit: number;
  offset: number;
}

/**
 * Leads matching every filter given, best score first. Walks the (stage, grade, total) or
 * (total) index in score order and stops at the page: filters only test the rows it passes.
 */
export function searchLeads(db: DbOrTx, p: SearchLeadsParams): Promise<LeadSummary[]> {
  const latestOutcome = sql`(select o.outcome from outcomes o where o.lead_id = ${leadScores.leadId}
    order by o.created_at desc, o.id desc limit 1)`;
  const filters = [
    p.pattern
      ? sql`(${leads.email} ilike ${p.pattern} or ${leads.company} ilike ${p.pattern}
          or concat_ws(' ', ${leads.firstName}, ${leads.lastName}) ilike ${p.pattern})`
      : undefined,
    p.stage ? eq(leadScores.stage, p.stage) : undefined,
    p.modelKey ? eq(leadScores.modelKey, p.modelKey) : undefined,
    p.grades && p.grades.length === 1 ? eq(leadScores.grade, p.grades[0] as string) : undefined,
    p.grades && p.grades.length > 1 ? inArray(leadScores.grade, [...p.grades]) : undefined,
    p.levels && p.levels.length > 0 ? inArray(leadScores.level, [...p.levels]) : undefined,
    p.owner === null ? isNull(leads.owner) : p.owner ? eq(leads.owner, p.owner) : undefined,
    p.minScore !== undefined ? gte(leadScores.total, p.minScore) : undefined,
    p.maxScore !== undefined ? lte(leadScores.total, p.maxScore) : undefined,
    p.activeSince ? gte(leadScores.lastEventAt, p.activeSince) : undefined,
    p.outcome === "none"
      ? sql`not exists (select 1 from outcomes o where o.lead_id = ${leadScores.leadId})`
      : p.outcome
        ? sql`${latestOutcome} = ${p.outcome}`
        : undefined,
  ].filter((f) => f !== undefined);
  if (filters.length === 0) return plainTop(db, p.limit, p.offset);
  return db
    .select(summaryColumns)
    .from(leadScores)
    .innerJoin(leads, eq(leads.id, leadScores.leadId))
    .where(and(...filters))
    .orderBy(desc(leadScores.total), leadScores.leadId)
    .limit(p.limit)
    .offset(p.offset) as Promise<LeadSummary[]>;
}

export async function deleteLead(db: DbOrTx, p: { id: number }): Promise<void> {
  await db.delete(leads).where(eq(leads.id, p.id));
}

export async function countLeads(db: DbOrTx): Promise<number> {
  const [row] = await execRows<{ n: number }>(db, sql`select count(*)::int as n from leads`);
  return row?.n ?? 0;
}

/** Locks a lead for the rest of the transaction; its owner, or undefined when it is gone. */
export async function lockLead(
  tx: DbOrTx,
  p: { id: number },
): Promise<{ owner: string | null } | undefined> {
  const [row] = await tx
    .select({ owner: leads.owner })
    .from(leads)
    .where(eq(leads.id, p.id))
    .for("no key update");
  return row;
}

export async function setOwner(tx: DbOrTx, p: { id: number; owner: string }): Promise<void> {
  await tx.update(leads).set({ owner: p.owner, updatedAt: new Date() }).where(eq(leads.id, p.id));
}

/** Lead fields and the columns (with casts) they are stored in. */
export const LEAD_COLUMNS = {
  email: { col: "email", cast: "text" },
  externalId: { col: "external_id", cast: "text" },
  firstName: { col: "first_name", cast: "text" },
  lastName: { col: "last_name", cast: "text" },
  title: { col: "title", cast: "text" },
  company: { col: "company", cast: "text" },
  industry: { col: "industry", cast: "text" },
  employees: { col: "employees", cast: "int" },
  annualRevenue: { col: "annual_revenue", cast: "float8" },
  country: { col: "country", cast: "text" },
  source: { col: "source", cast: "text" },
  owner: { col: "owner", cast: "text" },
} as const;
export type LeadField = keyof typeof LEAD_COLUMNS;
export const LEAD_FIELDS = Object.keys(LEAD_COLUMNS) as LeadField[];

const insertColumns = [...LEAD_FIELDS.map((k) => LEAD_COLUMNS[k].col), "attributes"];
const insertSelect = sql.raw(
  [
    ...LEAD_FIELDS.map((k) => `(d->>'${LEAD_COLUMNS[k].col}')::${LEAD_COLUMNS[k].cast}`),
    "coalesce(d->'attributes', '{}'::jsonb)",
  ].join(", "),
);
const updateSet = sql.raw(
  [
    ...LEAD_FIELDS.map((k) => {
      const { col, cast } = LEAD_COLUMNS[k];
      return `${col} = case when d ? '${col}' then (d->>'${col}')::${cast} else l.${col} end`;
    }),
    "attributes = l.attributes || coalesce(d->'attributes', '{}'::jsonb)",
  ].join(", "),
);

export interface KeyRow {
  id: number;
  email: string | null;
  external_id: string | null;
}

/**
 * Each key by its own unique index: a single `email in (…) or external_id in (…)` cannot use
 * either index and scanned every lead once per ingest request. Prepared: it runs on every batch.
 */
const LEADS_BY_KEYS = `
  select id::int as id, email, external_id from leads where email = any($1::text[])
  union
  select id::int as id, email, external_id from leads where external_id = any($2::text[])`;

export async function leadsByKeys(
  tx: DbOrTx,
  p: { emails: readonly string[]; externalIds: readonly string[] },
): Promise<KeyRow[]> {
  if (p.emails.length === 0 && p.externalIds.length === 0) return [];
  return preparedRows<KeyRow>(tx, LEADS_BY_KEYS, [[...p.emails], [...p.externalIds]]);
}

export interface InsertLeadsParams {
  /** Stored lead documents: column-named keys, only the fields given. */
  docs: readonly Record<string, unknown>[];
}

/** Inserts leads that do not exist yet; returns the rows it inserted. */
export async function insertLeads(tx: DbOrTx, p: InsertLeadsParams): Promise<KeyRow[]> {
  if (p.docs.length === 0) return [];
  return execRows<KeyRow>(
    tx,
    sql`insert into leads (${sql.raw(insertColumns.join(", "))})
        select ${insertSelect} from jsonb_array_elements(${JSON.stringify(p.docs)}::jsonb) d
        on conflict do nothing
        returning id::int as id, email, external_id`,
  );
}

export interface UpdateLeadsParams {
  /** Lead documents with their `id`: the fields given replace, attributes merge. */
  docs: readonly Record<string, unknown>[];
}

export async function updateLeads(tx: DbOrTx, p: UpdateLeadsParams): Promise<void> {
  await tx.execute(sql`
    update leads l set ${updateSet}, updated_at = now()
    from jsonb_array_elements(${JSON.stringify(p.docs)}::jsonb) d
    where l.id = (d->>'id')::bigint`);
}

/** Which of the given ids are leads. */
export async function existingLeadIds(
  tx: DbOrTx,
  p: { ids: readonly number[] },
): Promise<number[]> {
  const rows = await execRows<{ id: number }>(
    tx,
    sql`select id::int as id from leads
        where id in (select x::bigint from json_array_elements_text(${JSON.stringify(p.ids)}::json) x)`,
  );
  return rows.map((r) => r.id);
}

export async function currentScore(db: DbOrTx, p: { leadId: number }) {
  const [row] = await db
    .select({ total: leadScores.total, version: leadScores.modelVersion })
    .from(leadScores)
    .where(eq(leadScores.leadId, p.leadId));
  return row;
}

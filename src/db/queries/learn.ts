import { and, desc, eq, sql } from "drizzle-orm";
import type { OutcomeLabel } from "../../core/impact.js";
import { type DbOrTx, execRows } from "../client.js";
import { proposals, suggestions } from "../schema.js";
import type { LeadFactsRow } from "./scores.js";

/** A lead as learning sees it: its facts and, when one is recorded, its latest outcome. */
export interface LearnLeadRow extends LeadFactsRow {
  outcome: OutcomeLabel | null;
  /** Epoch ms of the latest outcome, null for a lead without one. */
  outcome_at: number | null;
}

/** Every lead with its latest outcome, in id order, in one statement. */
export function learnLeads(db: DbOrTx): Promise<LearnLeadRow[]> {
  return execRows<LearnLeadRow>(
    db,
    sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
          l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
          l.attributes, o.outcome, (date_part('epoch', o.created_at) * 1000)::float8 as outcome_at
        from leads l
        left join lateral (
          select outcome, created_at from outcomes
          where lead_id = l.id order by created_at desc, id desc limit 1
        ) o on true
        order by l.id`,
  );
}

export interface LearnEventRow {
  lead_id: number;
  type: string;
  at: number;
  properties: Record<string, unknown>;
}

/**
 * Every event that happened before its lead's latest outcome (or before `now` for a lead without
 * one): what the lead had done when it was judged, never what it did after.
 */
export function learnEvents(db: DbOrTx, p: { now: Date }): Promise<LearnEventRow[]> {
  return execRows<LearnEventRow>(
    db,
    sql`select e.lead_id::int as lead_id, e.type,
          (date_part('epoch', e.occurred_at) * 1000)::float8 as at, e.properties
        from events e
        left join lateral (
          select created_at from outcomes
          where lead_id = e.lead_id order by created_at desc, id desc limit 1
        ) o on true
        where e.occurred_at <= coalesce(o.created_at, ${p.now.toISOString()}::timestamptz)`,
  );
}

export type SuggestionRow = typeof suggestions.$inferSelect;

export async function insertSuggestion(
  db: DbOrTx,
  p: typeof suggestions.$inferInsert,
): Promise<SuggestionRow> {
  const [row] = await db.insert(suggestions).values(p).returning();
  if (!row) throw new Error("suggestion insert returned nothing");
  return row;
}

export async function suggestionOfProposal(
  db: DbOrTx,
  p: { proposalId: number },
): Promise<SuggestionRow | undefined> {
  const [row] = await db
    .select()
    .from(suggestions)
    .where(eq(suggestions.proposalId, p.proposalId))
    .limit(1);
  return row;
}

/** The newest learned proposal still waiting for a decision, if any. */
export async function pendingSuggestion(db: DbOrTx): Promise<{ proposalId: number } | undefined> {
  const [row] = await db
    .select({ proposalId: suggestions.proposalId })
    .from(suggestions)
    .innerJoin(proposals, eq(proposals.id, suggestions.proposalId))
    .where(and(eq(proposals.status, "pending")))
    .orderBy(desc(suggestions.id))
    .limit(1);
  return row;
}

import { and, desc, eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { leadClosures, outcomes } from "../schema.js";

export type OutcomeRow = typeof outcomes.$inferSelect;
export type NewOutcome = typeof outcomes.$inferInsert;

export async function latestOutcome(
  tx: DbOrTx,
  p: { leadId: number },
): Promise<OutcomeRow | undefined> {
  const [row] = await tx
    .select()
    .from(outcomes)
    .where(eq(outcomes.leadId, p.leadId))
    .orderBy(desc(outcomes.createdAt), desc(outcomes.id))
    .limit(1);
  return row;
}

export async function insertOutcome(tx: DbOrTx, p: NewOutcome): Promise<OutcomeRow> {
  const [row] = await tx.insert(outcomes).values(p).returning();
  if (!row) throw new Error("outcome insert returned nothing");
  return row;
}

/** A lead's outcomes, newest first, as a lead's detail shows them. */
export function outcomesOf(db: DbOrTx, p: { leadId: number }) {
  return db
    .select({
      outcome: outcomes.outcome,
      reason: outcomes.reason,
      note: outcomes.note,
      by: outcomes.byUser,
      source: outcomes.source,
      at: outcomes.createdAt,
    })
    .from(outcomes)
    .where(eq(outcomes.leadId, p.leadId))
    .orderBy(desc(outcomes.createdAt));
}

/** Whether this lead already has this outcome at exactly this time: a re-sent item. */
export async function hasOutcomeAt(
  tx: DbOrTx,
  p: { leadId: number; outcome: OutcomeRow["outcome"]; at: Date },
): Promise<OutcomeRow | undefined> {
  const [row] = await tx
    .select()
    .from(outcomes)
    .where(
      and(
        eq(outcomes.leadId, p.leadId),
        eq(outcomes.outcome, p.outcome),
        eq(outcomes.createdAt, p.at),
      ),
    )
    .limit(1);
  return row;
}

export type ClosureRow = typeof leadClosures.$inferSelect;

export async function closureOf(
  tx: DbOrTx,
  p: { leadId: number },
): Promise<ClosureRow | undefined> {
  const [row] = await tx.select().from(leadClosures).where(eq(leadClosures.leadId, p.leadId));
  return row;
}

/**
 * Sets a lead's closure state unless a later outcome or reopen is already on record: outcomes
 * from a CRM arrive out of order, and the latest by its own time decides.
 */
export async function setClosure(tx: DbOrTx, p: typeof leadClosures.$inferInsert): Promise<void> {
  await tx
    .insert(leadClosures)
    .values(p)
    .onConflictDoUpdate({
      target: leadClosures.leadId,
      set: {
        state: sql`excluded.state`,
        reason: sql`excluded.reason`,
        byUser: sql`excluded.by_user`,
        source: sql`excluded.source`,
        at: sql`excluded.at`,
      },
      setWhere: sql`${leadClosures.at} <= excluded.at`,
    });
}

import { desc, eq } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { outcomes } from "../schema.js";

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

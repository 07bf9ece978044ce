import { and, asc, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { proposalMessages, proposals } from "../schema.js";

export type ProposalRow = typeof proposals.$inferSelect;
export type NewProposal = typeof proposals.$inferInsert;

/** Serialises approvals so two managers cannot both activate a change on the same base. */
const APPROVAL_LOCK_KEY = 7_240_113_002;

export async function insertProposal(db: DbOrTx, p: NewProposal): Promise<ProposalRow> {
  const [row] = await db.insert(proposals).values(p).returning();
  if (!row) throw new Error("proposal insert returned nothing");
  return row;
}

export async function proposalById(
  db: DbOrTx,
  p: { id: number },
): Promise<ProposalRow | undefined> {
  const [row] = await db.select().from(proposals).where(eq(proposals.id, p.id));
  return row;
}

export function pendingProposals(db: DbOrTx): Promise<ProposalRow[]> {
  return db
    .select()
    .from(proposals)
    .where(eq(proposals.status, "pending"))
    .orderBy(desc(proposals.id));
}

/** Proposals `by` made in the last `seconds`, by the database's clock (which stamps created_at). */
export async function countRecentProposals(
  db: DbOrTx,
  p: { by: string; seconds: number },
): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(proposals)
    .where(
      sql`${proposals.proposedBy} = ${p.by} and ${proposals.createdAt} > now() - make_interval(secs => ${p.seconds})`,
    );
  return Number(row?.n ?? 0);
}

/** Holds the approval lock until the transaction ends. */
export async function lockApprovals(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${APPROVAL_LOCK_KEY})`);
}

export interface SetDecisionParams {
  id: number;
  status: "approved" | "rejected";
  by: string;
  at: Date;
  note: string | null;
}

export async function setDecision(tx: DbOrTx, p: SetDecisionParams): Promise<void> {
  await tx
    .update(proposals)
    .set({ status: p.status, decidedBy: p.by, decidedAt: p.at, decisionNote: p.note })
    .where(eq(proposals.id, p.id));
}

export interface ProposalMessage {
  channel: string;
  ts: string;
  audience: "manager" | "channel" | "proposer";
  /** The user a DM went to. */
  to?: string | undefined;
}

export interface InsertProposalMessagesParams {
  proposalId: number;
  messages: readonly ProposalMessage[];
}

export async function insertProposalMessages(
  db: DbOrTx,
  p: InsertProposalMessagesParams,
): Promise<void> {
  if (p.messages.length === 0) return;
  await db
    .insert(proposalMessages)
    .values(
      p.messages.map((m) => ({
        proposalId: p.proposalId,
        channel: m.channel,
        ts: m.ts,
        audience: m.audience,
        toUser: m.to ?? null,
      })),
    )
    .onConflictDoNothing();
}

export async function proposalMessagesOf(
  db: DbOrTx,
  p: { proposalId: number },
): Promise<ProposalMessage[]> {
  const rows = await db
    .select()
    .from(proposalMessages)
    .where(eq(proposalMessages.proposalId, p.proposalId))
    .orderBy(desc(proposalMessages.id));
  return rows.map((r) => ({
    channel: r.channel,
    ts: r.ts,
    audience: r.audience,
    ...(r.toUser ? { to: r.toUser } : {}),
  }));
}

/**
 * Claims pending proposals nobody has posted yet (made by the CLI or the API, or left by an
 * instance that stopped): each is claimed by one instance only, so it is posted once.
 */
export async function claimUnannounced(
  db: DbOrTx,
  p: { at: Date; limit: number },
): Promise<ProposalRow[]> {
  const due = db
    .select({ id: proposals.id })
    .from(proposals)
    .where(and(isNull(proposals.announcedAt), eq(proposals.status, "pending")))
    .orderBy(asc(proposals.id))
    .limit(p.limit)
    .for("update", { skipLocked: true });
  return db
    .update(proposals)
    .set({ announcedAt: p.at })
    .where(and(inArray(proposals.id, due), isNull(proposals.announcedAt)))
    .returning();
}

/** Claims one proposal for posting; false when another caller claimed it first. */
export async function claimAnnouncement(db: DbOrTx, p: { id: number; at: Date }): Promise<boolean> {
  const rows = await db
    .update(proposals)
    .set({ announcedAt: p.at })
    .where(and(eq(proposals.id, p.id), isNull(proposals.announcedAt)))
    .returning({ id: proposals.id });
  return rows.length > 0;
}

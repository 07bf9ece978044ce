import { desc, eq, sql } from "drizzle-orm";
import { type Db, type DbOrTx, execRows } from "../db/client.js";
import { auditLog, leadScores, leads, outcomes, roles } from "../db/schema.js";
import { ConflictError, ForbiddenError, NotFoundError } from "./errors.js";
import { resolveLeadId } from "./leads.js";

export type Role = "admin" | "manager" | "rep";
export const ROLES: readonly Role[] = ["admin", "manager", "rep"];
export type OutcomeKind = "won" | "lost" | "not_a_fit";

/** Reasons offered when a lead is lost; "other" asks for a note. */
export const LOST_REASONS = [
  "no_budget",
  "no_decision",
  "chose_competitor",
  "bad_timing",
  "no_response",
  "other",
] as const;
export type LostReason = (typeof LOST_REASONS)[number];

/** Admins named in LEADBOT_ADMINS hold the role from the first start, whatever the table says. */
export async function roleOf(db: DbOrTx, userId: string, admins: readonly string[]): Promise<Role> {
  if (admins.includes(userId)) return "admin";
  const [row] = await db.select({ role: roles.role }).from(roles).where(eq(roles.userId, userId));
  return row?.role ?? "rep";
}

export function canApprove(role: Role): boolean {
  return role === "admin" || role === "manager";
}

export async function listRoles(db: DbOrTx) {
  return db.select().from(roles).orderBy(roles.role, roles.userId);
}

export async function managers(db: DbOrTx, admins: readonly string[]): Promise<string[]> {
  const rows = await db
    .select({ userId: roles.userId })
    .from(roles)
    .where(sql`${roles.role} in ('manager', 'admin')`);
  return [...new Set([...admins, ...rows.map((r) => r.userId)])];
}

export async function grantRole(
  db: Db,
  p: { by: string; userId: string; role: Role; admins: readonly string[] },
): Promise<void> {
  if ((await roleOf(db, p.by, p.admins)) !== "admin") {
    throw new ForbiddenError(
      "Only admins grant roles. Ask one of the admins listed in LEADBOT_ADMINS.",
    );
  }
  await db.transaction(async (tx) => {
    await tx
      .insert(roles)
      .values({ userId: p.userId, role: p.role, grantedBy: p.by })
      .onConflictDoUpdate({
        target: roles.userId,
        set: { role: p.role, grantedBy: p.by, grantedAt: new Date() },
      });
    await tx.insert(auditLog).values({
      actor: p.by,
      action: "role.granted",
      subject: `user:${p.userId}`,
      details: { role: p.role },
    });
  });
}

export interface OutcomeInput {
  lead: string | number;
  outcome: OutcomeKind;
  by: string;
  source: "slack-alert" | "slack-command" | "api" | "cli";
  alertId?: number | undefined;
  reason?: string | undefined;
  note?: string | undefined;
}

export interface OutcomeResult {
  leadId: number;
  recorded: boolean;
  /** The outcome now on record (the existing one when nothing new was recorded). */
  outcome: OutcomeKind;
  by: string;
  at: Date;
  reason: string | null;
}

/**
 * Records won / lost / not a fit. The lead row is locked and the latest outcome checked, so a
 * double click or a retried request records one outcome; a different outcome replaces it.
 */
export async function recordOutcome(db: Db, p: OutcomeInput): Promise<OutcomeResult> {
  return db.transaction(async (tx) => {
    const leadId = typeof p.lead === "number" ? p.lead : await resolveLeadId(tx, p.lead);
    const locked = await tx
      .select({ id: leads.id })
      .from(leads)
      .where(eq(leads.id, leadId))
      .for("no key update");
    if (locked.length === 0) throw new NotFoundError(`Lead ${leadId} no longer exists.`);
    const [latest] = await tx
      .select()
      .from(outcomes)
      .where(eq(outcomes.leadId, leadId))
      .orderBy(desc(outcomes.createdAt), desc(outcomes.id))
      .limit(1);
    if (latest && latest.outcome === p.outcome && (p.reason ?? null) === (latest.reason ?? null)) {
      return {
        leadId,
        recorded: false,
        outcome: latest.outcome,
        by: latest.byUser,
        at: latest.createdAt,
        reason: latest.reason,
      };
    }
    const [score] = await tx
      .select({ total: leadScores.total, version: leadScores.modelVersion })
      .from(leadScores)
      .where(eq(leadScores.leadId, leadId));
    const [row] = await tx
      .insert(outcomes)
      .values({
        leadId,
        outcome: p.outcome,
        reason: p.reason ?? null,
        note: p.note ?? null,
        byUser: p.by,
        source: p.source,
        alertId: p.alertId ?? null,
        scoreAtOutcome: score?.total ?? null,
        modelVersion: score?.version ?? null,
      })
      .returning();
    if (!row) throw new Error("outcome insert returned nothing");
    await tx.insert(auditLog).values({
      actor: p.by,
      action: `lead.${p.outcome}`,
      subject: `lead:${leadId}`,
      details: { reason: p.reason ?? null, source: p.source, alertId: p.alertId ?? null },
    });
    return {
      leadId,
      recorded: true,
      outcome: row.outcome,
      by: row.byUser,
      at: row.createdAt,
      reason: row.reason,
    };
  });
}

export interface AssignResult {
  leadId: number;
  owner: string;
  previous: string | null;
  changed: boolean;
}

/**
 * Sets a lead's owner. With `claim`, the lead must be unowned or already the claimer's: a
 * second rep's claim is refused with the name of the first.
 */
export async function assignLead(
  db: Db,
  p: { lead: string | number; owner: string; by: string; claim?: boolean },
): Promise<AssignResult> {
  return db.transaction(async (tx) => {
    const leadId = typeof p.lead === "number" ? p.lead : await resolveLeadId(tx, p.lead);
    const [row] = await tx
      .select({ owner: leads.owner })
      .from(leads)
      .where(eq(leads.id, leadId))
      .for("no key update");
    if (!row) throw new NotFoundError(`Lead ${leadId} no longer exists.`);
    if (row.owner === p.owner)
      return { leadId, owner: p.owner, previous: row.owner, changed: false };
    if (p.claim && row.owner) {
      throw new ConflictError("already_claimed", "{owner} already owns this lead.", {
        owner: row.owner,
      });
    }
    await tx
      .update(leads)
      .set({ owner: p.owner, updatedAt: new Date() })
      .where(eq(leads.id, leadId));
    await tx.insert(auditLog).values({
      actor: p.by,
      action: p.claim ? "lead.claimed" : "lead.assigned",
      subject: `lead:${leadId}`,
      details: { owner: p.owner, previous: row.owner },
    });
    return { leadId, owner: p.owner, previous: row.owner, changed: true };
  });
}

export async function auditHistory(db: DbOrTx, limit = 20, actions?: string[]) {
  return db
    .select()
    .from(auditLog)
    .where(actions ? sql`${auditLog.action} in ${actions}` : undefined)
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(limit);
}

export interface Stats {
  stages: Record<"lead" | "mql" | "sql", number>;
  outcomes30d: Record<OutcomeKind, number>;
  mqlToWon: { mqls: number; won: number };
  alertsPending: number;
}

export async function teamStats(db: DbOrTx, now: number): Promise<Stats> {
  const since = new Date(now - 30 * 86_400_000).toISOString();
  const [row] = await execRows<Record<string, number>>(
    db,
    sql`
    select
      (select count(*)::int from lead_scores where stage = 'lead') as lead,
      (select count(*)::int from lead_scores where stage = 'mql') as mql,
      (select count(*)::int from lead_scores where stage = 'sql') as sql,
      (select count(*)::int from outcomes where outcome = 'won' and created_at >= ${since}::timestamptz) as won,
      (select count(*)::int from outcomes where outcome = 'lost' and created_at >= ${since}::timestamptz) as lost,
      (select count(*)::int from outcomes where outcome = 'not_a_fit' and created_at >= ${since}::timestamptz) as not_a_fit,
      (select count(distinct lead_id)::int from stage_transitions where to_stage in ('mql', 'sql')) as mqls,
      (select count(distinct o.lead_id)::int from outcomes o
         where o.outcome = 'won' and exists (select 1 from stage_transitions t
           where t.lead_id = o.lead_id and t.to_stage in ('mql', 'sql'))) as mql_won,
      (select count(*)::int from alert_outbox where status = 'pending') as pending
  `,
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    stages: { lead: n("lead"), mql: n("mql"), sql: n("sql") },
    outcomes30d: { won: n("won"), lost: n("lost"), not_a_fit: n("not_a_fit") },
    mqlToWon: { mqls: n("mqls"), won: n("mql_won") },
    alertsPending: n("pending"),
  };
}

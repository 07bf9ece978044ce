import type { Db, DbOrTx } from "../db/client.js";
import { type AuditRow, auditHistory as auditRows, insertAudit } from "../db/queries/audit.js";
import { lockLead, setOwner } from "../db/queries/leads.js";
import {
  listRoles as listRoleRows,
  managerIds,
  storedRole,
  upsertRole,
} from "../db/queries/roles.js";
import { insertAssignment } from "../db/queries/routing.js";
import { teamCounts } from "../db/queries/stats.js";
import { ConflictError, ForbiddenError, NotFoundError } from "./errors.js";
import { resolveLeadId } from "./leads.js";
import type { OutcomeKind } from "./outcomes.js";

export {
  type OutcomeInput,
  type OutcomeKind,
  type OutcomeResult,
  recordOutcome,
} from "./outcomes.js";

export type Role = "admin" | "manager" | "rep";
export const ROLES: readonly Role[] = ["admin", "manager", "rep"];

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
  return (await storedRole(db, { userId })) ?? "rep";
}

export function canApprove(role: Role): boolean {
  return role === "admin" || role === "manager";
}

export function listRoles(db: DbOrTx) {
  return listRoleRows(db);
}

export async function managers(db: DbOrTx, admins: readonly string[]): Promise<string[]> {
  return [...new Set([...admins, ...(await managerIds(db))])];
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
    await upsertRole(tx, { userId: p.userId, role: p.role, by: p.by });
    await insertAudit(tx, {
      actor: p.by,
      action: "role.granted",
      subject: `user:${p.userId}`,
      details: { role: p.role },
    });
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
  admins: readonly string[] = [],
): Promise<AssignResult> {
  return db.transaction(async (tx) => {
    const leadId = typeof p.lead === "number" ? p.lead : await resolveLeadId(tx, p.lead);
    const row = await lockLead(tx, { id: leadId });
    if (!row) throw new NotFoundError(`Lead ${leadId} no longer exists.`);
    if (row.owner === p.owner)
      return { leadId, owner: p.owner, previous: row.owner, changed: false };
    if (p.claim && row.owner) {
      throw new ConflictError("already_claimed", "{owner} already owns this lead.", {
        owner: row.owner,
      });
    }
    if (!p.claim && !(await mayAssign(tx, p, row.owner, admins))) {
      throw new ForbiddenError(
        `Only lead ${leadId}'s owner, a manager or an admin can assign it${row.owner ? "" : " to someone else; you can assign it to yourself or press Claim"}.`,
      );
    }
    await setOwner(tx, { id: leadId, owner: p.owner });
    await insertAssignment(tx, {
      leadId,
      owner: p.owner,
      previous: row.owner,
      source: p.claim ? "claim" : "person",
      by: p.by,
    });
    await insertAudit(tx, {
      actor: p.by,
      action: p.claim ? "lead.claimed" : "lead.assigned",
      subject: `lead:${leadId}`,
      details: { owner: p.owner, previous: row.owner },
    });
    return { leadId, owner: p.owner, previous: row.owner, changed: true };
  });
}

/** The owner hands a lead on; managers and admins route any lead; anyone takes an unowned one. */
async function mayAssign(
  db: DbOrTx,
  p: { owner: string; by: string },
  current: string | null,
  admins: readonly string[],
): Promise<boolean> {
  if (current === p.by) return true;
  if (current === null && p.owner === p.by) return true;
  return canApprove(await roleOf(db, p.by, admins));
}

export type { AuditRow };

export function auditHistory(db: DbOrTx, limit = 20, actions?: string[]): Promise<AuditRow[]> {
  return auditRows(db, { limit, actions });
}

export interface Stats {
  stages: Record<"lead" | "mql" | "sql", number>;
  outcomes30d: Record<OutcomeKind, number>;
  mqlToWon: { mqls: number; won: number };
  alertsPending: number;
}

export async function teamStats(db: DbOrTx, now: number): Promise<Stats> {
  const c = await teamCounts(db, { since: new Date(now - 30 * 86_400_000) });
  const n = (k: keyof typeof c) => c[k];
  return {
    stages: { lead: n("lead"), mql: n("mql"), sql: n("sql") },
    outcomes30d: { won: n("won"), lost: n("lost"), not_a_fit: n("not_a_fit") },
    mqlToWon: { mqls: n("mqls"), won: n("mql_won") },
    alertsPending: n("pending"),
  };
}

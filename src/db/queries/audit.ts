import { desc, sql } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { auditLog } from "../schema.js";

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string | null;
  details?: Record<string, unknown>;
}

/** Appends one row to the audit log: history of who did what, never read back as state. */
export async function insertAudit(db: DbOrTx, p: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actor: p.actor,
    action: p.action,
    subject: p.subject ?? null,
    ...(p.details ? { details: p.details } : {}),
  });
}

export interface AuditHistoryParams {
  limit: number;
  actions?: readonly string[] | undefined;
}

export function auditHistory(db: DbOrTx, p: AuditHistoryParams): Promise<AuditRow[]> {
  return db
    .select()
    .from(auditLog)
    .where(p.actions ? sql`${auditLog.action} in ${p.actions}` : undefined)
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(p.limit);
}

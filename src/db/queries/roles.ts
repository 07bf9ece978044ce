import { eq, sql } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { roles } from "../schema.js";

export type RoleName = "admin" | "manager" | "rep";

export async function storedRole(db: DbOrTx, p: { userId: string }): Promise<RoleName | undefined> {
  const [row] = await db.select({ role: roles.role }).from(roles).where(eq(roles.userId, p.userId));
  return row?.role;
}

export function listRoles(db: DbOrTx) {
  return db.select().from(roles).orderBy(roles.role, roles.userId);
}

/** Users who hold the manager or admin role in the table. */
export async function managerIds(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .select({ userId: roles.userId })
    .from(roles)
    .where(sql`${roles.role} in ('manager', 'admin')`);
  return rows.map((r) => r.userId);
}

export async function upsertRole(
  db: DbOrTx,
  p: { userId: string; role: RoleName; by: string },
): Promise<void> {
  await db
    .insert(roles)
    .values({ userId: p.userId, role: p.role, grantedBy: p.by })
    .onConflictDoUpdate({
      target: roles.userId,
      set: { role: p.role, grantedBy: p.by, grantedAt: new Date() },
    });
}

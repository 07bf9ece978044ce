import { and, asc, eq, ne } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { leadViews } from "../schema.js";

/** The row that holds the filters a person used last; not a name a view can take. */
export const LAST_USED_VIEW = ":last";

export async function upsertView(
  db: DbOrTx,
  p: { userId: string; name: string; filters: Record<string, unknown> },
): Promise<void> {
  await db
    .insert(leadViews)
    .values({ userId: p.userId, name: p.name, filters: p.filters })
    .onConflictDoUpdate({
      target: [leadViews.userId, leadViews.name],
      set: { filters: p.filters, updatedAt: new Date() },
    });
}

export async function viewFilters(
  db: DbOrTx,
  p: { userId: string; name: string },
): Promise<Record<string, unknown> | undefined> {
  const [row] = await db
    .select({ filters: leadViews.filters })
    .from(leadViews)
    .where(and(eq(leadViews.userId, p.userId), eq(leadViews.name, p.name)));
  return row?.filters;
}

export async function viewNames(db: DbOrTx, p: { userId: string }): Promise<string[]> {
  const rows = await db
    .select({ name: leadViews.name })
    .from(leadViews)
    .where(and(eq(leadViews.userId, p.userId), ne(leadViews.name, LAST_USED_VIEW)))
    .orderBy(asc(leadViews.name));
  return rows.map((r) => r.name);
}

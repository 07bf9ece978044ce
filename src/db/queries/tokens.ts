import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import type { DbOrTx } from "../client.js";
import { apiTokens } from "../schema.js";

export async function insertToken(
  db: DbOrTx,
  p: { name: string; tokenHash: string; scopes: string[] },
) {
  const [row] = await db
    .insert(apiTokens)
    .values({ name: p.name, tokenHash: p.tokenHash, scopes: p.scopes })
    .returning({
      id: apiTokens.id,
      name: apiTokens.name,
      scopes: apiTokens.scopes,
      createdAt: apiTokens.createdAt,
    });
  return row;
}

/** Revokes an active token; false when no active token has that id. */
export async function revokeToken(db: DbOrTx, p: { id: number; at: Date }): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: p.at })
    .where(and(eq(apiTokens.id, p.id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/** Replaces an active token's scopes; its scopes before, or undefined when no active token has that id. */
export async function setTokenScopes(
  db: DbOrTx,
  p: { id: number; scopes: string[] },
): Promise<{ before: string[] } | undefined> {
  const [before] = await db
    .select({ scopes: apiTokens.scopes })
    .from(apiTokens)
    .where(and(eq(apiTokens.id, p.id), isNull(apiTokens.revokedAt)))
    .for("update");
  if (!before) return undefined;
  await db.update(apiTokens).set({ scopes: p.scopes }).where(eq(apiTokens.id, p.id));
  return { before: before.scopes };
}

export function listTokens(db: DbOrTx) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      scopes: apiTokens.scopes,
      createdAt: apiTokens.createdAt,
      revokedAt: apiTokens.revokedAt,
      lastUsedAt: apiTokens.lastUsedAt,
    })
    .from(apiTokens)
    .orderBy(desc(apiTokens.id));
}

export async function activeTokenByHash(
  db: DbOrTx,
  p: { tokenHash: string },
): Promise<{ id: number; name: string; scopes: string[]; lastUsedAt: Date | null } | undefined> {
  const [row] = await db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      scopes: apiTokens.scopes,
      lastUsedAt: apiTokens.lastUsedAt,
    })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, p.tokenHash), isNull(apiTokens.revokedAt)));
  return row;
}

/**
 * Records a use unless one at or after `staleBefore` is recorded already: the guard keeps
 * instances that race on the same token from each writing a row version.
 */
export async function touchToken(
  db: DbOrTx,
  p: { id: number; at: Date; staleBefore: Date },
): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: p.at })
    .where(
      and(
        eq(apiTokens.id, p.id),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, p.staleBefore)),
      ),
    );
}

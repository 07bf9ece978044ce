import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import type { DbOrTx } from "../db/client.js";
import { apiTokens, auditLog } from "../db/schema.js";
import { NotFoundError } from "./errors.js";

/** Prefix that makes a leaked token easy to recognise in logs and secret scanners. */
const TOKEN_PREFIX = "lbt_";

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createToken(db: DbOrTx, name: string, actor = "cli") {
  const token = `${TOKEN_PREFIX}${randomBytes(24).toString("base64url")}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ name, tokenHash: hashToken(token) })
    .returning({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt });
  await db.insert(auditLog).values({ actor, action: "token.created", subject: `token:${row?.id}` });
  return { ...row, token };
}

export async function revokeToken(db: DbOrTx, id: number, actor = "cli") {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (!row) throw new NotFoundError(`No active API token has id ${id}.`);
  await db.insert(auditLog).values({ actor, action: "token.revoked", subject: `token:${id}` });
}

export async function listTokens(db: DbOrTx) {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      createdAt: apiTokens.createdAt,
      revokedAt: apiTokens.revokedAt,
      lastUsedAt: apiTokens.lastUsedAt,
    })
    .from(apiTokens)
    .orderBy(desc(apiTokens.id));
}

/**
 * Checks a bearer token against the bootstrap token and the stored hashes. Returns the token's
 * name, or undefined when it is unknown or revoked.
 */
export async function verifyToken(
  db: DbOrTx,
  token: string,
  bootstrap?: string,
): Promise<string | undefined> {
  if (bootstrap) {
    const a = Buffer.from(hashToken(token));
    const b = Buffer.from(hashToken(bootstrap));
    if (timingSafeEqual(a, b)) return "bootstrap";
  }
  const [row] = await db
    .select({ id: apiTokens.id, name: apiTokens.name })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
  return row?.name;
}

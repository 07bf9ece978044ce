import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  activeTokenByHash,
  insertToken,
  listTokens as listTokenRows,
  revokeToken as revokeTokenRow,
} from "../db/queries/tokens.js";
import { NotFoundError } from "./errors.js";

/** Prefix that makes a leaked token easy to recognise in logs and secret scanners. */
const TOKEN_PREFIX = "lbt_";

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createToken(db: DbOrTx, name: string, actor = "cli") {
  const token = `${TOKEN_PREFIX}${randomBytes(24).toString("base64url")}`;
  const row = await insertToken(db, { name, tokenHash: hashToken(token) });
  await insertAudit(db, { actor, action: "token.created", subject: `token:${row?.id}` });
  return { ...row, token };
}

export async function revokeToken(db: DbOrTx, id: number, actor = "cli") {
  if (!(await revokeTokenRow(db, { id, at: new Date() })))
    throw new NotFoundError(`No active API token has id ${id}.`);
  await insertAudit(db, { actor, action: "token.revoked", subject: `token:${id}` });
}

export function listTokens(db: DbOrTx) {
  return listTokenRows(db);
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
  return (await activeTokenByHash(db, { tokenHash: hashToken(token) }))?.name;
}

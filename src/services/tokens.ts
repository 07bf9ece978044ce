import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  activeTokenByHash,
  insertToken,
  listTokens as listTokenRows,
  revokeToken as revokeTokenRow,
  touchToken,
} from "../db/queries/tokens.js";
import { NotFoundError } from "./errors.js";

/** Prefix that makes a leaked token easy to recognise in logs and secret scanners. */
const TOKEN_PREFIX = "lbt_";

/**
 * What an API token may do: `ingest` sends leads, events, Segment calls and outcomes; `read` reads
 * leads and stats; `admin` erases leads, proposes models and holds every other scope.
 */
export const SCOPES = ["ingest", "read", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** A token made without `--scope` can only send data: the one web tracking needs. */
export const DEFAULT_SCOPES: readonly Scope[] = ["ingest"];

/** lastUsedAt is written at most this often per token, so a busy token costs no write per call. */
const TOUCH_EVERY_MS = 60_000;

/** Who is calling the API: the token's name and id (none for the bootstrap token) and scopes. */
export interface ApiCaller {
  tokenId: number | null;
  name: string;
  scopes: readonly Scope[];
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Whether a caller holding `scopes` may do what `needed` guards; admin holds every scope. */
export function allows(scopes: readonly string[], needed: Scope): boolean {
  return scopes.includes("admin") || scopes.includes(needed);
}

/** The audit actor of an API call: the token's name, so a row says which integration acted. */
export function actorOf(caller: ApiCaller): string {
  return `api:${caller.name}`;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createToken(
  db: DbOrTx,
  name: string,
  actor = "cli",
  scopes: readonly Scope[] = DEFAULT_SCOPES,
) {
  const token = `${TOKEN_PREFIX}${randomBytes(24).toString("base64url")}`;
  const unique = [...new Set(scopes)];
  const row = await insertToken(db, { name, tokenHash: hashToken(token), scopes: unique });
  await insertAudit(db, {
    actor,
    action: "token.created",
    subject: `token:${row?.id}`,
    details: { scopes: unique },
  });
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
 * Checks a token against the bootstrap token (scope admin) and the stored hashes. Returns the
 * caller, or undefined when the token is unknown or revoked. Records the use when the last one
 * recorded is over a minute old, so a fresh token costs the one lookup and nothing more.
 */
export async function verifyToken(
  db: DbOrTx,
  token: string,
  bootstrap: string | undefined,
  now: number,
): Promise<ApiCaller | undefined> {
  if (bootstrap) {
    const a = Buffer.from(hashToken(token));
    const b = Buffer.from(hashToken(bootstrap));
    if (timingSafeEqual(a, b)) return { tokenId: null, name: "bootstrap", scopes: ["admin"] };
  }
  const row = await activeTokenByHash(db, { tokenHash: hashToken(token) });
  if (!row) return undefined;
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
    await touchToken(db, {
      id: row.id,
      at: new Date(now),
      staleBefore: new Date(now - TOUCH_EVERY_MS),
    });
  }
  return { tokenId: row.id, name: row.name, scopes: row.scopes.filter(isScope) };
}

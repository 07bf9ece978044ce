import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DbOrTx } from "../db/client.js";
import { CHANNELS, notify } from "../db/notifications.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  activeTokenByHash,
  insertToken,
  listTokens as listTokenRows,
  revokeToken as revokeTokenRow,
  setTokenScopes as setTokenScopesRow,
  touchToken,
} from "../db/queries/tokens.js";
import { InvalidInputError, NotFoundError } from "./errors.js";

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

/**
 * What a token change tells every instance (channel CHANNELS.tokens): `created`, or `changed:<id>`
 * when a token was revoked or given other scopes. Never the token or its hash.
 */
export type TokenChange = { kind: "created" } | { kind: "changed"; id: number };

export function tokenChangePayload(change: TokenChange): string {
  return change.kind === "created" ? "created" : `changed:${change.id}`;
}

/** The change a payload names, or undefined when it cannot be read (then drop everything). */
export function parseTokenChange(payload: string): TokenChange | undefined {
  if (payload === "created") return { kind: "created" };
  const m = /^changed:(\d{1,15})$/.exec(payload);
  return m ? { kind: "changed", id: Number(m[1]) } : undefined;
}

/** Hears this instance's own token changes the moment they commit (other instances: NOTIFY). */
export type OnTokenChange = (change: TokenChange) => void;

export async function createToken(
  db: DbOrTx,
  name: string,
  actor = "cli",
  scopes: readonly Scope[] = DEFAULT_SCOPES,
  onChange: OnTokenChange = () => {},
) {
  const token = `${TOKEN_PREFIX}${randomBytes(24).toString("base64url")}`;
  const unique = [...new Set(scopes)];
  const row = await db.transaction(async (tx) => {
    const inserted = await insertToken(tx, { name, tokenHash: hashToken(token), scopes: unique });
    await insertAudit(tx, {
      actor,
      action: "token.created",
      subject: `token:${inserted?.id}`,
      details: { scopes: unique },
    });
    await notify(tx, CHANNELS.tokens, tokenChangePayload({ kind: "created" }));
    return inserted;
  });
  onChange({ kind: "created" });
  return { ...row, token };
}

export async function revokeToken(
  db: DbOrTx,
  id: number,
  actor = "cli",
  onChange: OnTokenChange = () => {},
) {
  await db.transaction(async (tx) => {
    if (!(await revokeTokenRow(tx, { id, at: new Date() })))
      throw new NotFoundError(`No active API token has id ${id}.`);
    await insertAudit(tx, { actor, action: "token.revoked", subject: `token:${id}` });
    // Sent on commit: every instance drops what it remembers of the token.
    await notify(tx, CHANNELS.tokens, tokenChangePayload({ kind: "changed", id }));
  });
  onChange({ kind: "changed", id });
}

/** Gives an active token other scopes; every instance enforces them from the commit on. */
export async function setTokenScopes(
  db: DbOrTx,
  id: number,
  scopes: readonly Scope[],
  actor = "cli",
  onChange: OnTokenChange = () => {},
): Promise<{ id: number; before: string[]; scopes: Scope[] }> {
  const unique = [...new Set(scopes)];
  if (unique.length === 0)
    throw new InvalidInputError(`A token needs at least one scope among ${SCOPES.join(", ")}.`);
  const before = await db.transaction(async (tx) => {
    const changed = await setTokenScopesRow(tx, { id, scopes: unique });
    if (!changed) throw new NotFoundError(`No active API token has id ${id}.`);
    await insertAudit(tx, {
      actor,
      action: "token.scopes_changed",
      subject: `token:${id}`,
      details: { from: changed.before, to: unique },
    });
    await notify(tx, CHANNELS.tokens, tokenChangePayload({ kind: "changed", id }));
    return changed.before;
  });
  onChange({ kind: "changed", id });
  return { id, before, scopes: unique };
}

export function listTokens(db: DbOrTx) {
  return listTokenRows(db);
}

/** A stored token as the API sees it, and when its use was last recorded (epoch ms, or null). */
export interface TokenGrant {
  caller: ApiCaller;
  touchedAt: number | null;
}

/** The caller of the bootstrap token (LEADBOT_API_TOKEN): admin, and not stored. */
export const BOOTSTRAP_CALLER: ApiCaller = { tokenId: null, name: "bootstrap", scopes: ["admin"] };

/** Whether `tokenHash` is the hash of `bootstrap`, compared in constant time. */
export function isBootstrap(tokenHash: string, bootstrap: string | undefined): boolean {
  if (!bootstrap) return false;
  return timingSafeEqual(Buffer.from(tokenHash), Buffer.from(hashToken(bootstrap)));
}

/** The active token with this hash, read from the store; undefined when unknown or revoked. */
export async function grantOf(db: DbOrTx, tokenHash: string): Promise<TokenGrant | undefined> {
  const row = await activeTokenByHash(db, { tokenHash });
  if (!row) return undefined;
  return {
    caller: { tokenId: row.id, name: row.name, scopes: row.scopes.filter(isScope) },
    touchedAt: row.lastUsedAt ? row.lastUsedAt.getTime() : null,
  };
}

/** Whether a token's use recorded at `touchedAt` is old enough to record again at `now`. */
export function touchDue(touchedAt: number | null, now: number): boolean {
  return touchedAt === null || now - touchedAt >= TOUCH_EVERY_MS;
}

/** Records a use of a token now; the store's guard keeps racing instances to one write. */
export function recordUse(db: DbOrTx, id: number, now: number): Promise<void> {
  return touchToken(db, { id, at: new Date(now), staleBefore: new Date(now - TOUCH_EVERY_MS) });
}

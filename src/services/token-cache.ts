import type { DbOrTx } from "../db/client.js";
import { CHANNELS, type Notifications, type Subscription } from "../db/notifications.js";
import { Lru } from "../lib/lru.js";
import {
  type ApiCaller,
  BOOTSTRAP_CALLER,
  grantOf,
  hashToken,
  isBootstrap,
  parseTokenChange,
  recordUse,
  type TokenChange,
  touchDue,
} from "./tokens.js";

/** Most verified tokens remembered: far more than a deployment has, so each stays once seen. */
const MAX_TOKENS = 10_000;
/**
 * Most unknown tokens remembered. Small on purpose: random tokens only evict one another here,
 * never a verified one, and they cost at most this many entries of memory.
 */
const MAX_UNKNOWN = 1_000;
/**
 * Longest a verified token is trusted without reading it again: the net under LISTEN/NOTIFY if
 * the listening connection dies silently (changes otherwise arrive within milliseconds).
 */
const TOKEN_TTL_MS = 30_000;
/** Longest an unknown token is refused without asking the store: a retrying client's pace. */
const UNKNOWN_TTL_MS = 5_000;

export interface TokenCacheOptions {
  maxTokens?: number;
  maxUnknown?: number;
  ttlMs?: number;
  unknownTtlMs?: number;
  /** Monotonic milliseconds for expiry; the app's clock is for records and may stand still. */
  monotonic?: () => number;
}

interface Grant {
  caller: ApiCaller;
  expires: number;
  /** When this token's use was last recorded (app clock, epoch ms), or null: never. */
  touchedAt: number | null;
}

export interface TokenVerifier {
  /** The caller, or undefined when the token is unknown or revoked. */
  verify(token: string, bootstrap: string | undefined, now: number): Promise<ApiCaller | undefined>;
  /** A change this instance made: applied at once, before its own notification comes back. */
  changed(change: TokenChange): void;
  /** Tokens remembered now (verified, unknown): for tests and metrics. */
  size(): { tokens: number; unknown: number };
}

/**
 * Verified tokens kept in this process, keyed by the token's hash (never the token). Every
 * instance hears of revocations and scope changes on CHANNELS.tokens and forgets the token at
 * once; while the listening connection is down nothing is served from memory, and everything
 * is forgotten when it comes back, since changes sent meanwhile were not heard.
 */
export function createTokenVerifier(
  db: DbOrTx,
  notifications: Notifications,
  opts: TokenCacheOptions = {},
): TokenVerifier {
  const tokens = new Lru<Grant>(opts.maxTokens ?? MAX_TOKENS);
  const unknown = new Lru<number>(opts.maxUnknown ?? MAX_UNKNOWN);
  const ttl = opts.ttlMs ?? TOKEN_TTL_MS;
  const unknownTtl = opts.unknownTtlMs ?? UNKNOWN_TTL_MS;
  const monotonic = opts.monotonic ?? (() => performance.now());
  /** Bumped by every change heard: a lookup that started before one must not be remembered. */
  let generation = 0;
  let subscription: Subscription | undefined;

  const forgetAll = () => {
    generation++;
    tokens.clear();
    unknown.clear();
  };
  const apply = (change: TokenChange | undefined) => {
    generation++;
    if (!change) return forgetAll();
    // A new token may be one this instance was shown before it existed.
    if (change.kind === "created") return unknown.clear();
    for (const [hash, grant] of tokens.entries())
      if (grant.caller.tokenId === change.id) tokens.delete(hash);
  };
  // Listening starts with the first check, so tools that never check open no connection for it.
  const listening = (): boolean => {
    subscription ??= notifications.listen(CHANNELS.tokens, {
      message: (payload) => apply(parseTokenChange(payload)),
      reset: forgetAll,
    });
    return subscription.live;
  };

  return {
    async verify(token, bootstrap, now) {
      const hash = hashToken(token);
      if (isBootstrap(hash, bootstrap)) return BOOTSTRAP_CALLER;
      const live = listening();
      const at = monotonic();
      if (live) {
        const grant = tokens.get(hash);
        if (grant && grant.expires > at) {
          const id = grant.caller.tokenId;
          if (id !== null && touchDue(grant.touchedAt, now)) {
            grant.touchedAt = now;
            await recordUse(db, id, now);
          }
          return grant.caller;
        }
        const refusedUntil = unknown.get(hash);
        if (refusedUntil !== undefined && refusedUntil > at) return undefined;
      }
      const started = generation;
      const found = await grantOf(db, hash);
      let touchedAt = found?.touchedAt ?? null;
      const id = found?.caller.tokenId ?? null;
      if (id !== null && touchDue(touchedAt, now)) {
        await recordUse(db, id, now);
        touchedAt = now;
      }
      // Remembered only when no change was heard since the read began, and changes are heard.
      if (subscription?.live && started === generation) {
        if (found) {
          unknown.delete(hash);
          tokens.set(hash, { caller: found.caller, expires: at + ttl, touchedAt });
        } else {
          unknown.set(hash, at + unknownTtl);
        }
      }
      return found?.caller;
    },
    changed: apply,
    size: () => ({ tokens: tokens.size, unknown: unknown.size }),
  };
}

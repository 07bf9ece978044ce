import { createHmac, randomBytes } from "node:crypto";
import type { DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  deleteSuppressions,
  type SuppressionEntry,
  secretOrCreate,
  suppressedAmong,
} from "../db/queries/suppressions.js";
import { LeadKeyError, NotFoundError } from "./errors.js";
import { emailSchema } from "./inputs.js";

/** Where the generated key lives when LEADBOT_SUPPRESSION_KEY is not set. */
const KEY_SECRET_NAME = "suppression_key";

/** Who a suppression names: the email, the externalId, or both. */
export interface Person {
  email?: string | null | undefined;
  externalId?: string | null | undefined;
}

/**
 * Keyed hashes of erased people. The key is LEADBOT_SUPPRESSION_KEY, or one generated once and
 * kept in the database, so the table holds no plain data and cannot be matched without the key.
 */
export interface Suppression {
  /** The key, loaded (or made) once per process; call it outside a transaction on PGlite. */
  key(): Promise<Buffer>;
  /** The entries naming a person, under `key`. */
  entriesOf(key: Buffer, person: Person): SuppressionEntry[];
  /** The indexes of `people` that name a suppressed person. */
  suppressed(db: DbOrTx, people: readonly Person[]): Promise<Set<number>>;
}

function hmac(key: Buffer, value: string): string {
  return createHmac("sha256", key).update(value, "utf8").digest("hex");
}

/**
 * Hashes kept per process. Every event batch is checked against the erased, and the same people
 * send event after event: without these, hashing was the largest cost of accepting a batch in
 * the API process. A hash never changes for a given key, so the cache needs no invalidation.
 */
export const HASH_CACHE_SIZE = 20_000;

export function createSuppression(db: DbOrTx, configuredKey?: string): Suppression {
  let key: Promise<Buffer> | undefined;
  let cachedFor: Buffer | undefined;
  const cache = new Map<string, string>();
  /** The keyed hash of `value`, from the cache when this key hashed it lately. */
  const hashOf = (k: Buffer, value: string): string => {
    if (cachedFor !== k) {
      cache.clear();
      cachedFor = k;
    }
    let h = cache.get(value);
    if (h === undefined) {
      h = hmac(k, value);
      // Oldest first out: a Map iterates in insertion order.
      if (cache.size >= HASH_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      cache.set(value, h);
    }
    return h;
  };
  const self: Suppression = {
    key() {
      key ??= configuredKey
        ? Promise.resolve(Buffer.from(configuredKey, "utf8"))
        : secretOrCreate(db, {
            name: KEY_SECRET_NAME,
            candidate: randomBytes(32).toString("base64url"),
          }).then((v) => Buffer.from(v, "utf8"));
      // A failed load is retried on the next call rather than cached.
      key.catch(() => {
        key = undefined;
      });
      return key;
    },
    entriesOf(k, person) {
      const out: SuppressionEntry[] = [];
      const email = person.email?.trim().toLowerCase();
      if (email) out.push({ kind: "email", hash: hashOf(k, `email:${email}`) });
      const ext = person.externalId?.trim();
      if (ext) out.push({ kind: "external_id", hash: hashOf(k, `ext:${ext}`) });
      return out;
    },
    async suppressed(tx, people) {
      const hit = new Set<number>();
      if (people.length === 0) return hit;
      const k = await self.key();
      const perPerson = people.map((p) => self.entriesOf(k, p).map((e) => e.hash));
      const found = await suppressedAmong(tx, { hashes: [...new Set(perPerson.flat())] });
      if (found.size === 0) return hit;
      perPerson.forEach((hashes, i) => {
        if (hashes.some((h) => found.has(h))) hit.add(i);
      });
      return hit;
    },
  };
  return self;
}

/**
 * Lifts a suppression, so the person may be recorded again: `target` is an email or `ext:X`.
 * Audited with the hash, never the value.
 */
export async function unsuppress(
  db: DbOrTx,
  suppression: Suppression,
  p: { target: string; actor: string },
): Promise<{ removed: number }> {
  const raw = p.target.trim();
  let person: Person;
  if (/^ext:/i.test(raw)) {
    const ext = raw.slice(4).trim();
    if (!ext) throw new LeadKeyError("ext: takes the externalId to un-suppress.");
    person = { externalId: ext };
  } else {
    const email = emailSchema.safeParse(raw);
    if (!email.success)
      throw new LeadKeyError(`"${raw}": name the person by an email or ext:<externalId>.`);
    person = { email: email.data };
  }
  const entries = suppression.entriesOf(await suppression.key(), person);
  const removed = await deleteSuppressions(db, { hashes: entries.map((e) => e.hash) });
  if (removed === 0) throw new NotFoundError(`Nobody matching "${raw}" is suppressed.`);
  await insertAudit(db, {
    actor: p.actor,
    action: "lead.unsuppressed",
    subject: null,
    details: { hashes: entries.map((e) => e.hash) },
  });
  return { removed };
}

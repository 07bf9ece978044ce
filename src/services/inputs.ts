import { z } from "zod";
import { storable, UNSTORABLE_MESSAGE } from "../core/text.js";

/** Longest accepted free-text field: keeps one bad row from bloating the store. */
const MAX_TEXT = 500;
/** Events older than this are almost certainly a clock or unit mistake (seconds vs ms). */
const OLDEST_EVENT = Date.UTC(2000, 0, 1);
/** The last instant a four-digit ISO year can name; later ones are a unit mistake too. */
const NEWEST_EVENT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Largest `attributes` or `properties` object, as JSON: room for rich context, not for a file. */
export const MAX_BAG_BYTES = 16 * 1024;
/** Deepest nesting accepted in `attributes` or `properties`. */
const MAX_BAG_DEPTH = 8;
/** Longest email address SMTP allows (RFC 5321 path limit). */
export const MAX_EMAIL = 254;

/**
 * Why a JSON object cannot be stored as `attributes` or `properties`, or undefined when it can:
 * too large, too deep, or holding text Postgres refuses. Walks once, stopping at the limit.
 */
export function bagProblem(bag: Record<string, unknown>): string | undefined {
  let bytes = 2;
  const walk = (v: unknown, depth: number): string | undefined => {
    if (bytes > MAX_BAG_BYTES) return `is larger than ${MAX_BAG_BYTES} bytes as JSON`;
    if (typeof v === "string") {
      bytes += v.length + 2;
      return storable(v) ? undefined : UNSTORABLE_MESSAGE;
    }
    if (v === null || typeof v !== "object") {
      bytes += 8;
      return undefined;
    }
    if (depth > MAX_BAG_DEPTH) return `is nested deeper than ${MAX_BAG_DEPTH} levels`;
    const entries = Array.isArray(v) ? v.map((x) => ["", x] as const) : Object.entries(v);
    for (const [k, x] of entries) {
      bytes += k.length + 4;
      if (k && !storable(k)) return `has a key that ${UNSTORABLE_MESSAGE}`;
      const problem = walk(x, depth + 1);
      if (problem) return problem;
    }
    return bytes > MAX_BAG_BYTES ? `is larger than ${MAX_BAG_BYTES} bytes as JSON` : undefined;
  };
  return walk(bag, 1);
}

const storableString = z.string().refine(storable, UNSTORABLE_MESSAGE);
const text = storableString.trim().min(1).max(MAX_TEXT);
const jsonBag = z.record(z.string(), z.unknown()).superRefine((bag, ctx) => {
  const problem = bagProblem(bag);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const nullableText = text.nullable().optional();

export const emailSchema = z
  .string()
  .trim()
  .max(MAX_EMAIL, `must be at most ${MAX_EMAIL} characters`)
  .toLowerCase()
  .pipe(z.email({ message: "must be an email address such as jane@acme.com" }));

const nonNegative = (what: string) =>
  z.coerce
    .number({ message: `${what} must be a number` })
    .finite()
    .min(0, `${what} must not be negative`);

/** A lead as it arrives from the API, Segment or a CSV row; unknown keys go to `attributes`. */
export const leadInputSchema = z
  .object({
    email: emailSchema.optional(),
    externalId: text.optional(),
    firstName: nullableText,
    lastName: nullableText,
    title: nullableText,
    company: nullableText,
    industry: nullableText,
    employees: nonNegative("employees")
      .int("employees must be a whole number")
      .nullable()
      .optional(),
    annualRevenue: nonNegative("annualRevenue").nullable().optional(),
    country: nullableText,
    source: nullableText,
    owner: z
      .string()
      .trim()
      .regex(/^[UW][A-Z0-9]{2,}$/, "owner must be a Slack user id such as U012AB3CD")
      .nullable()
      .optional(),
    attributes: jsonBag.optional(),
  })
  .catchall(z.unknown())
  .refine((l) => l.email !== undefined || l.externalId !== undefined, {
    message: "a lead needs an email or an externalId",
    path: ["email"],
  })
  .superRefine((l, ctx) => {
    // Unknown keys become attributes: they share its limits.
    const known = new Set<string>(LEAD_INPUT_KEYS);
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) if (!known.has(k)) extra[k] = v;
    if (Object.keys(extra).length === 0) return;
    // `attributes` itself was checked by its schema; report the merged bag once.
    if (l.attributes && bagProblem(l.attributes)) return;
    const problem = bagProblem({ ...l.attributes, ...extra });
    if (problem) ctx.addIssue({ code: "custom", message: problem, path: ["attributes"] });
  })
  .transform((l) => {
    const known = new Set<string>(LEAD_INPUT_KEYS);
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(l)) if (!known.has(k)) extra[k] = v;
    const out: LeadInput = {
      email: l.email,
      externalId: l.externalId,
      firstName: l.firstName,
      lastName: l.lastName,
      title: l.title,
      company: l.company,
      industry: l.industry,
      employees: l.employees,
      annualRevenue: l.annualRevenue,
      country: l.country,
      source: l.source,
      owner: l.owner,
      attributes:
        Object.keys(extra).length > 0 || l.attributes ? { ...l.attributes, ...extra } : undefined,
    };
    return out;
  });

const LEAD_INPUT_KEYS = [
  "email",
  "externalId",
  "firstName",
  "lastName",
  "title",
  "company",
  "industry",
  "employees",
  "annualRevenue",
  "country",
  "source",
  "owner",
  "attributes",
] as const;

/**
 * A validated lead. `undefined` leaves a stored field as it is on upsert; `null` clears it.
 * `attributes` are merged into the stored ones.
 */
export interface LeadInput {
  email?: string | undefined;
  externalId?: string | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  title?: string | null | undefined;
  company?: string | null | undefined;
  industry?: string | null | undefined;
  employees?: number | null | undefined;
  annualRevenue?: number | null | undefined;
  country?: string | null | undefined;
  source?: string | null | undefined;
  owner?: string | null | undefined;
  attributes?: Record<string, unknown> | undefined;
}

const occurredAt = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const d = typeof v === "number" ? new Date(v) : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({
      code: "custom",
      message: "must be an ISO 8601 timestamp or epoch milliseconds",
    });
    return z.NEVER;
  }
  if (d.getTime() < OLDEST_EVENT) {
    ctx.addIssue({
      code: "custom",
      message: "is before 2000-01-01; epoch values are milliseconds, not seconds",
    });
    return z.NEVER;
  }
  if (d.getTime() > NEWEST_EVENT) {
    ctx.addIssue({ code: "custom", message: "is after the year 9999; check the timestamp" });
    return z.NEVER;
  }
  return d;
});

/** An event as it arrives; `id` makes delivery idempotent. */
export const eventInputSchema = z
  .strictObject({
    id: storableString.trim().min(1).max(200),
    email: emailSchema.optional(),
    leadId: z
      .union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)])
      .optional(),
    externalId: text.optional(),
    type: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .transform((t) => normaliseEventType(t))
      .pipe(z.string().regex(/^[a-z][a-z0-9_]*$/, "type must be a name such as page_view")),
    occurredAt,
    properties: jsonBag.default({}),
  })
  .refine((e) => e.email !== undefined || e.leadId !== undefined || e.externalId !== undefined, {
    message: "an event needs an email, a leadId or an externalId",
    path: ["email"],
  });

export type EventInput = z.output<typeof eventInputSchema>;

const EVENT_KEYS = new Set([
  "id",
  "email",
  "leadId",
  "externalId",
  "type",
  "occurredAt",
  "properties",
]);
const EVENT_TYPE = /^[a-z][a-z0-9_]*$/;
const DIGITS = /^\d+$/;
/** snake_case that `normaliseEventType` leaves as it is: no edge or doubled underscores. */
const PLAIN_SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

function plainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && !Object.hasOwn(v, "__proto__");
}

/**
 * The common, valid event without zod: ingest validates every item of every batch, and zod's
 * generic machinery is most of that cost. Anything this does not accept outright (any error,
 * any unusual shape) returns undefined and goes through `eventInputSchema`, so errors and edge
 * cases read exactly as the schema words them. Must accept only what the schema accepts and
 * produce the same output.
 */
function fastEventInput(item: unknown): EventInput | undefined {
  if (!plainRecord(item)) return undefined;
  for (const k in item) if (!EVENT_KEYS.has(k)) return undefined;
  const { id: rawId, email: rawEmail, leadId: rawLeadId, externalId: rawExt } = item;
  const { type: rawType, occurredAt: rawAt, properties: rawProps } = item;
  if (typeof rawId !== "string" || typeof rawType !== "string") return undefined;
  const id = rawId.trim();
  if (id.length < 1 || id.length > 200 || !storable(id)) return undefined;
  const out: EventInput = { id, type: "", occurredAt: new Date(0), properties: {} };
  if (rawEmail !== undefined) {
    if (typeof rawEmail !== "string") return undefined;
    const email = rawEmail.trim().toLowerCase();
    if (email.length > MAX_EMAIL || !z.regexes.email.test(email)) return undefined;
    out.email = email;
  }
  if (rawLeadId !== undefined) {
    if (typeof rawLeadId === "number") {
      if (!Number.isSafeInteger(rawLeadId) || rawLeadId <= 0) return undefined;
      out.leadId = rawLeadId;
    } else if (typeof rawLeadId === "string" && DIGITS.test(rawLeadId)) {
      out.leadId = Number(rawLeadId);
    } else return undefined;
  }
  if (rawExt !== undefined) {
    if (typeof rawExt !== "string") return undefined;
    const ext = rawExt.trim();
    if (ext.length < 1 || ext.length > MAX_TEXT || !storable(ext)) return undefined;
    out.externalId = ext;
  }
  if (out.email === undefined && out.leadId === undefined && out.externalId === undefined)
    return undefined;
  const trimmedType = rawType.trim();
  if (trimmedType.length < 1 || trimmedType.length > 64) return undefined;
  // Plain snake_case (the usual case) needs no normalising.
  const type = PLAIN_SNAKE.test(trimmedType) ? trimmedType : normaliseEventType(trimmedType);
  if (!EVENT_TYPE.test(type)) return undefined;
  out.type = type;
  if (typeof rawAt !== "string" && typeof rawAt !== "number") return undefined;
  const at = new Date(rawAt);
  const ms = at.getTime();
  if (Number.isNaN(ms) || ms < OLDEST_EVENT || ms > NEWEST_EVENT) return undefined;
  out.occurredAt = at;
  if (rawProps !== undefined) {
    if (!plainRecord(rawProps) || bagProblem(rawProps)) return undefined;
    out.properties = rawProps;
  }
  return out;
}

export type EventParse =
  | { success: true; data: EventInput }
  | { success: false; error: z.ZodError };

/** Validates one event: `eventInputSchema.safeParse`, with a fast path for the valid common case. */
export function parseEventInput(item: unknown): EventParse {
  const fast = fastEventInput(item);
  if (fast) return { success: true, data: fast };
  return eventInputSchema.safeParse(item);
}

/** "Demo Requested", "demo-request" and "demoRequest" all become snake_case words. */
export function normaliseEventType(raw: string): string {
  return raw
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

export interface ItemError {
  index: number;
  field: string;
  reason: string;
}

/** Formats zod issues of one batch item as {index, field, reason} rows. */
export function itemErrors(index: number, error: z.ZodError): ItemError[] {
  return error.issues.map((i) => ({
    index,
    field: i.path.length > 0 ? i.path.join(".") : "(item)",
    reason: i.message,
  }));
}

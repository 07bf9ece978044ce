import { z } from "zod";
import { normaliseEventType } from "./inputs.js";

/** The event types the default model knows; Segment's past-tense names map onto them. */
const KNOWN_TYPES = [
  "page_view",
  "email_open",
  "email_click",
  "form_submit",
  "content_download",
  "webinar_attend",
  "demo_request",
  "trial_start",
  "meeting_booked",
  "unsubscribe",
  "email_bounce",
];

/** Tenses of a word as event names use them: "submit" → submitted, submits, submitting. */
function inflections(word: string): string[] {
  const base = word.endsWith("ed") ? word.slice(0, -2) : word;
  const last = base.slice(-1);
  return [word, base, `${base}ed`, `${base}d`, `${base}s`, `${base}ing`, `${base}${last}ed`];
}

const byInflection = new Map<string, string>();
for (const t of KNOWN_TYPES) {
  const words = t.split("_");
  const head = words.slice(0, -1).join("_");
  for (const form of inflections(words[words.length - 1] ?? t)) {
    byInflection.set(head ? `${head}_${form}` : form, t);
  }
}

/**
 * Maps a Segment `track` name onto an event type, ignoring case, separators and tense:
 * "Demo Requested" → demo_request, "Email Clicked" → email_click, "Page Viewed" → page_view.
 */
export function segmentEventType(name: string): string {
  const snake = normaliseEventType(name);
  return byInflection.get(snake) ?? snake;
}

const record = z.record(z.string(), z.unknown());
const common = {
  messageId: z.string().min(1).optional(),
  userId: z.union([z.string(), z.number()]).nullable().optional(),
  anonymousId: z.string().nullable().optional(),
  timestamp: z.string().optional(),
  sentAt: z.string().optional(),
  receivedAt: z.string().optional(),
  originalTimestamp: z.string().optional(),
  context: record.optional(),
};

export const segmentMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("identify"), traits: record.optional(), ...common }),
  z.object({
    type: z.literal("track"),
    event: z.string().min(1),
    properties: record.optional(),
    ...common,
  }),
  z.object({
    type: z.literal("page"),
    name: z.string().optional(),
    properties: record.optional(),
    ...common,
  }),
]);
export type SegmentMessage = z.infer<typeof segmentMessageSchema>;

export const segmentBodySchema = z.union([
  z.object({ batch: z.array(z.unknown()) }),
  z.object({ type: z.string() }).passthrough(),
]);

const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);
const num = (v: unknown) =>
  typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : undefined;

function identity(m: SegmentMessage, traits: Record<string, unknown>) {
  const ctxTraits = (m.context?.traits ?? {}) as Record<string, unknown>;
  const email =
    str(traits.email) ??
    str(ctxTraits.email) ??
    (m.type !== "identify" ? str(m.properties?.email) : undefined) ??
    (typeof m.userId === "string" && m.userId.includes("@") ? m.userId : undefined);
  const externalId =
    m.userId !== undefined && m.userId !== null && String(m.userId) !== email
      ? String(m.userId)
      : undefined;
  return { email, externalId };
}

/** Segment traits → lead fields; the rest lands in attributes. */
export function identifyToLead(m: Extract<SegmentMessage, { type: "identify" }>) {
  const traits = m.traits ?? {};
  const { email, externalId } = identity(m, traits);
  const company = traits.company;
  const companyObj =
    company && typeof company === "object" ? (company as Record<string, unknown>) : undefined;
  const address = (traits.address ?? {}) as Record<string, unknown>;
  const mapped = new Set([
    "email",
    "firstName",
    "first_name",
    "lastName",
    "last_name",
    "title",
    "company",
    "industry",
    "employees",
    "annualRevenue",
    "annual_revenue",
    "country",
    "address",
    "source",
    "owner",
    "name",
  ]);
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(traits)) if (!mapped.has(k)) attributes[k] = v;
  const [first, ...rest] = (str(traits.name) ?? "").split(/\s+/);
  return {
    email,
    externalId,
    firstName: str(traits.firstName) ?? str(traits.first_name) ?? (first || undefined),
    lastName: str(traits.lastName) ?? str(traits.last_name) ?? (rest.join(" ") || undefined),
    title: str(traits.title),
    company: str(company) ?? str(companyObj?.name),
    industry: str(traits.industry) ?? str(companyObj?.industry),
    employees: num(traits.employees) ?? num(companyObj?.employee_count),
    annualRevenue: num(traits.annualRevenue) ?? num(traits.annual_revenue),
    country: str(traits.country) ?? str(address.country),
    source: str(traits.source),
    owner: str(traits.owner),
    attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
  };
}

/** Segment track/page → an event; a `page` call is a page_view with its url. */
export function segmentToEvent(m: Exclude<SegmentMessage, { type: "identify" }>) {
  const props = { ...(m.properties ?? {}) };
  const { email, externalId } = identity(m, {});
  const page = (m.context?.page ?? {}) as Record<string, unknown>;
  if (m.type === "page") {
    if (props.url === undefined && page.url !== undefined) props.url = page.url;
    if (m.name !== undefined && props.name === undefined) props.name = m.name;
  }
  return {
    id: m.messageId,
    email,
    externalId,
    type: m.type === "page" ? "page_view" : segmentEventType(m.event),
    occurredAt: m.timestamp ?? m.originalTimestamp ?? m.sentAt ?? m.receivedAt,
    properties: props,
  };
}

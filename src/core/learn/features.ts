import { DAY_MS, engagementRuleMatches, fitRuleMatches } from "../engine.js";
import type { OutcomeLabel } from "../impact.js";
import type {
  ActivityEvent,
  Condition,
  EngagementRule,
  FitRule,
  LeadFacts,
  ScoringModel,
} from "../model.js";
import type { Column, Design } from "./logistic.js";

/** One lead for learning: who it is, what it did, and (when known) how it ended. */
export interface LearnExample {
  lead: LeadFacts;
  events: readonly ActivityEvent[];
  outcome?: OutcomeLabel | null;
  /** Epoch ms the lead is seen at: its outcome's time, or now. Later events are ignored. */
  at: number;
}

/** A candidate rule: one feature of the regression that maps back to exactly one model rule. */
export type Candidate =
  | { kind: "fit"; source: "model" | "data"; id: string; label: string; when: Condition[] }
  | {
      kind: "engagement";
      source: "model" | "data";
      id: string;
      label: string;
      event: string;
      where: Condition[];
      maxCount: number;
      windowDays?: number | undefined;
      halfLifeDays?: number | undefined;
    };

export interface CandidateOptions {
  /** Fewest labelled leads a data-derived rule must match (and, for absence, not match). */
  minSupport: number;
}

/** Lead fields tried as categories; names, emails and ids identify people, they do not predict. */
const CATEGORY_FIELDS = ["title", "industry", "country", "source"] as const;
const NUMERIC_FIELDS = ["employees", "annualRevenue"] as const;
/** Most frequent values tried per categorical field: beyond this the tail is noise. */
const MAX_VALUES_PER_FIELD = 30;
/** Numeric fields are cut at their quintiles: enough shape for "mid-market", few rules. */
const QUANTILE_BINS = 5;
/** A field whose present values are at least this share numeric is treated as a number. */
const NUMERIC_SHARE = 0.9;
/** Event candidates: any occurrence, each occurrence up to this many, and recent ones. */
const EVENT_COUNT_CAP = 5;
const RECENT_DAYS = 30;
/** Attribute keys tried: a wide CRM export must not blow up the candidate list. */
const MAX_ATTRIBUTE_KEYS = 60;

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function fieldValue(lead: LeadFacts, field: string): unknown {
  if (field.startsWith("attributes.")) return lead.attributes?.[field.slice(11)];
  return (lead as Record<string, unknown>)[field];
}

function present(v: unknown): boolean {
  return v !== null && v !== undefined && !(typeof v === "string" && v.trim() === "");
}

/** Rule ids are lowercase slugs; keeps them within the schema's pattern and length. */
function slug(s: string): string {
  const out = s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return (out || "rule").slice(0, 56);
}

function fieldName(field: string): string {
  return field.startsWith("attributes.") ? field.slice(11) : field;
}

function label(s: string): string {
  return s.length <= 80 ? s : `${s.slice(0, 79)}…`;
}

function fmt(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

/** Quintile cut points of sorted values, without repeats. */
function cuts(sorted: readonly number[]): number[] {
  const out: number[] = [];
  for (let q = 1; q < QUANTILE_BINS; q++) {
    const v = sorted[Math.floor((q * sorted.length) / QUANTILE_BINS)] as number;
    if (out[out.length - 1] !== v && v !== sorted[0]) out.push(v);
  }
  return out;
}

function numericCandidates(field: string, values: number[]): Candidate[] {
  const sorted = [...values].sort((a, b) => a - b);
  const edges = cuts(sorted);
  const integers = sorted.every(Number.isInteger);
  const out: Candidate[] = [];
  const name = fieldName(field);
  for (let b = 0; b <= edges.length; b++) {
    const min = b === 0 ? undefined : edges[b - 1];
    const upper = edges[b];
    // Ranges include both ends; the bin stops just below the next cut.
    const max =
      upper === undefined ? undefined : integers ? upper - 1 : upper - Math.abs(upper) * 1e-9;
    const text =
      min === undefined
        ? `${name} below ${fmt(upper as number)}`
        : max === undefined
          ? `${name} ${fmt(min)} or more`
          : `${name} ${fmt(min)}–${fmt(integers ? (max as number) : (upper as number))}`;
    const cond: Condition = {
      field,
      op: "range",
      ...(min !== undefined && { min }),
      ...(max !== undefined && { max }),
    };
    out.push({
      kind: "fit",
      source: "data",
      id: slug(`${name}_${min ?? "lt"}_${upper ?? "up"}`),
      label: label(text),
      when: [cond],
    });
  }
  return out;
}

/** Candidate rules from the current model and from the labelled data. */
export function candidateRules(
  examples: readonly LearnExample[],
  model: ScoringModel,
  options: CandidateOptions,
): Candidate[] {
  const out: Candidate[] = [];
  for (const r of model.fit.rules) {
    out.push({ kind: "fit", source: "model", id: r.id, label: r.label, when: r.when });
  }
  for (const r of model.engagement.rules) {
    out.push({
      kind: "engagement",
      source: "model",
      id: r.id,
      label: r.label,
      event: r.event,
      where: r.where,
      maxCount: r.maxCount,
      windowDays: r.windowDays,
      halfLifeDays: r.halfLifeDays,
    });
  }
  const labelled = examples.filter((e) => e.outcome);
  const attributeKeys = new Map<string, number>();
  for (const e of labelled) {
    for (const k of Object.keys(e.lead.attributes ?? {})) {
      if (/^[\w.-]+$/.test(k)) attributeKeys.set(k, (attributeKeys.get(k) ?? 0) + 1);
    }
  }
  const attrFields = [...attributeKeys.entries()]
    .filter(([, n]) => n >= options.minSupport)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_ATTRIBUTE_KEYS)
    .map(([k]) => `attributes.${k}`);
  const fields = [...CATEGORY_FIELDS, ...NUMERIC_FIELDS, ...attrFields];

  for (const field of fields) {
    const numbers: number[] = [];
    const categories = new Map<string, { count: number; raw: string | number | boolean }>();
    let presentCount = 0;
    for (const e of labelled) {
      const v = fieldValue(e.lead, field);
      if (!present(v)) continue;
      presentCount++;
      const n = asNumber(v);
      if (n !== undefined) numbers.push(n);
      if (typeof v === "string" || typeof v === "boolean" || typeof v === "number") {
        const key = String(v).trim().toLowerCase();
        const c = categories.get(key) ?? { count: 0, raw: typeof v === "string" ? v.trim() : v };
        c.count++;
        categories.set(key, c);
      }
    }
    if (presentCount < options.minSupport) continue;
    const name = fieldName(field);
    const isNumeric =
      (NUMERIC_FIELDS as readonly string[]).includes(field) ||
      numbers.length >= NUMERIC_SHARE * presentCount;
    if (isNumeric && categories.size > QUANTILE_BINS) {
      out.push(...numericCandidates(field, numbers));
    } else {
      const top = [...categories.entries()]
        .filter(([, c]) => c.count >= options.minSupport)
        .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
        .slice(0, MAX_VALUES_PER_FIELD);
      for (const [key, c] of top) {
        const when: Condition[] = [{ field, op: "equals", value: c.raw }];
        out.push({
          kind: "fit",
          source: "data",
          id: slug(`${name}_${key}`),
          label: label(`${name} is ${c.raw}`),
          when,
        });
      }
    }
    const missing = labelled.length - presentCount;
    if (missing >= options.minSupport) {
      out.push({
        kind: "fit",
        source: "data",
        id: slug(`${name}_missing`),
        label: label(`${name} missing`),
        when: [{ field, op: "absent" }],
      });
    }
  }

  const eventLeads = new Map<string, number>();
  for (const e of labelled) {
    const types = new Set<string>();
    for (const ev of e.events) if (ev.at <= e.at) types.add(ev.type);
    for (const t of types) eventLeads.set(t, (eventLeads.get(t) ?? 0) + 1);
  }
  const types = [...eventLeads.entries()]
    .filter(([t, n]) => n >= options.minSupport && /^[a-z][a-z0-9_]{0,63}$/.test(t))
    .sort((a, b) => a[0].localeCompare(b[0]));
  for (const [event] of types) {
    const base = { kind: "engagement", source: "data", event } as const;
    out.push({
      ...base,
      id: slug(`${event}_any`),
      label: label(`Any ${event}`),
      where: [],
      maxCount: 1,
    });
    out.push({
      ...base,
      id: slug(`${event}_each`),
      label: label(`Each ${event} (up to ${EVENT_COUNT_CAP})`),
      where: [],
      maxCount: EVENT_COUNT_CAP,
    });
    out.push({
      ...base,
      id: slug(`${event}_${RECENT_DAYS}d`),
      label: label(`${event} in the last ${RECENT_DAYS} days`),
      where: [],
      maxCount: 1,
      windowDays: RECENT_DAYS,
    });
  }

  // Model rule ids come first and keep theirs; data ids get a suffix on a clash.
  const seen = new Set<string>();
  for (const c of out) {
    let id = c.id;
    for (let k = 2; seen.has(id); k++) id = `${c.id}_${k}`;
    c.id = id;
    seen.add(id);
  }
  return out;
}

/** Same points-per-occurrence shape the engine applies: newest `maxCount`, windowed, decayed. */
function engagementValue(
  c: Extract<Candidate, { kind: "engagement" }>,
  newestFirst: readonly ActivityEvent[],
  at: number,
): number {
  const rule = { event: c.event, where: c.where } as EngagementRule;
  const windowMs = c.windowDays === undefined ? Number.POSITIVE_INFINITY : c.windowDays * DAY_MS;
  let kept = 0;
  let value = 0;
  for (const e of newestFirst) {
    if (kept >= c.maxCount) break;
    if (!engagementRuleMatches(rule, e)) continue;
    kept++;
    const age = Math.max(0, at - e.at);
    if (age > windowMs) continue;
    value += c.halfLifeDays === undefined ? 1 : 0.5 ** (age / (c.halfLifeDays * DAY_MS));
  }
  return value;
}

/** The design matrix: one sparse column per candidate, one row per example. */
export function buildDesign(
  examples: readonly LearnExample[],
  candidates: readonly Candidate[],
): Design {
  const idx: number[][] = candidates.map(() => []);
  const val: number[][] = candidates.map(() => []);
  examples.forEach((ex, i) => {
    const events = ex.events.filter((e) => e.at <= ex.at).sort((a, b) => b.at - a.at);
    candidates.forEach((c, j) => {
      const v =
        c.kind === "fit"
          ? fitRuleMatches(ex.lead, c.when)
            ? 1
            : 0
          : engagementValue(c, events, ex.at);
      if (v !== 0) {
        (idx[j] as number[]).push(i);
        (val[j] as number[]).push(v);
      }
    });
  });
  const columns: Column[] = candidates.map((_, j) => {
    const values = val[j] as number[];
    return {
      index: Uint32Array.from(idx[j] as number[]),
      value: values.every((v) => v === 1) ? null : Float64Array.from(values),
    };
  });
  return { rows: examples.length, columns };
}

/** The model rule a candidate becomes at `points` points (per occurrence, for engagement). */
export function toRule(c: Candidate, points: number): FitRule | EngagementRule {
  if (c.kind === "fit") return { id: c.id, label: c.label, points, when: c.when };
  return {
    id: c.id,
    label: c.label,
    points,
    event: c.event,
    where: c.where,
    maxCount: c.maxCount,
    ...(c.windowDays !== undefined && { windowDays: c.windowDays }),
    ...(c.halfLifeDays !== undefined && { halfLifeDays: c.halfLifeDays }),
  };
}

import {
  type Condition,
  type EngagementRule,
  type FitRule,
  modelSchema,
  type ScoringModel,
} from "./model.js";
import { describeSegment } from "./segments.js";

type Group = "fit" | "engagement";

/** One difference between two models, in terms a manager reads in an approval message. */
export type ModelChange =
  | { kind: "threshold"; key: "mql" | "sql" | "hysteresis"; from: number; to: number }
  | { kind: "points"; group: Group; ruleId: string; label: string; from: number; to: number }
  | {
      kind: "rule-added";
      group: Group;
      ruleId: string;
      label: string;
      points: number;
      what: string;
    }
  | { kind: "rule-removed"; group: Group; ruleId: string; label: string }
  /** Any other setting of a rule: its label, conditions, event, cap, window or half-life. */
  | {
      kind: "rule-setting";
      group: Group;
      ruleId: string;
      label: string;
      setting: string;
      from: string;
      to: string;
    }
  | { kind: "cap"; group: Group; from: number; to: number }
  | { kind: "inactivity"; from: string; to: string }
  | { kind: "band"; bands: "grades" | "levels"; key: string; from: number; to: number }
  | { kind: "segment"; from: string; to: string }
  | { kind: "other"; path: string; from: string; to: string };

/** A proposed change that the model cannot take; `field` names the value at fault. */
export class InvalidChangeError extends Error {
  readonly code = "invalid_change";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "InvalidChangeError";
  }
}

const THRESHOLD_KEYS = ["mql", "sql", "hysteresis"] as const;

type AnyRule = FitRule | EngagementRule;

const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
const days = (n: number | undefined) => (n === undefined ? "none" : `${n} days`);

/** A condition as a person writes it: `title has word "vp"`, `employees 200–1000`. */
export function describeCondition(c: Condition): string {
  const list = (vs: readonly (string | number | boolean)[]) =>
    vs.map((v) => JSON.stringify(v)).join(", ");
  switch (c.op) {
    case "equals":
      return `${c.field} is ${JSON.stringify(c.value)}`;
    case "oneOf":
      return `${c.field} is one of ${list(c.values)}`;
    case "containsAny":
      return `${c.field} contains ${list(c.values)}`;
    case "hasWord":
      return `${c.field} has word ${list(c.values)}`;
    case "range":
      return c.min !== undefined && c.max !== undefined
        ? `${c.field} ${c.min}–${c.max}`
        : c.min !== undefined
          ? `${c.field} ≥ ${c.min}`
          : `${c.field} ≤ ${c.max}`;
    case "present":
      return `${c.field} is set`;
    case "absent":
      return `${c.field} is empty`;
  }
}

const conditions = (cs: readonly Condition[]) =>
  cs.length === 0 ? "any" : cs.map(describeCondition).join(" and ");

/** Each setting of a rule but its points, as text, in the order the diff lists them. */
function ruleSettings(r: AnyRule): [string, string][] {
  if ("when" in r)
    return [
      ["label", r.label],
      ["when", conditions(r.when)],
    ];
  return [
    ["label", r.label],
    ["event", r.event],
    ["where", conditions(r.where)],
    ["cap", `${r.maxCount} occurrences`],
    ["window", days(r.windowDays)],
    ["half-life", days(r.halfLifeDays)],
  ];
}

/** A whole rule in one line, for a rule that is added. */
function describeRule(r: AnyRule): string {
  if ("when" in r) return `when ${conditions(r.when)}`;
  const parts = [`on ${r.event}`];
  if (r.where.length > 0) parts.push(`where ${conditions(r.where)}`);
  parts.push(`at most ${r.maxCount}`);
  if (r.windowDays !== undefined) parts.push(`window ${days(r.windowDays)}`);
  if (r.halfLifeDays !== undefined) parts.push(`half-life ${days(r.halfLifeDays)}`);
  return parts.join(", ");
}

function rulesDiff(group: Group, a: readonly AnyRule[], b: readonly AnyRule[]): ModelChange[] {
  const out: ModelChange[] = [];
  const before = new Map(a.map((r) => [r.id, r]));
  const after = new Map(b.map((r) => [r.id, r]));
  for (const r of b) {
    const old = before.get(r.id);
    if (!old) {
      out.push({
        kind: "rule-added",
        group,
        ruleId: r.id,
        label: r.label,
        points: r.points,
        what: describeRule(r),
      });
      continue;
    }
    if (old.points !== r.points) {
      out.push({
        kind: "points",
        group,
        ruleId: r.id,
        label: r.label,
        from: old.points,
        to: r.points,
      });
    }
    const was = new Map(ruleSettings(old));
    for (const [setting, to] of ruleSettings(r)) {
      const from = was.get(setting) ?? "none";
      if (from !== to) {
        out.push({ kind: "rule-setting", group, ruleId: r.id, label: r.label, setting, from, to });
      }
    }
  }
  for (const r of a) {
    if (!after.has(r.id)) out.push({ kind: "rule-removed", group, ruleId: r.id, label: r.label });
  }
  return out;
}

const inactivity = (i: ScoringModel["engagement"]["inactivity"]) =>
  i ? `${i.points} points after ${days(i.afterDays)} without an event` : "none";

/**
 * What changed from `a` to `b`, every setting: thresholds, rules added, removed or edited (points,
 * conditions, event, cap, window, half-life), caps, inactivity, grade and level bands, the name.
 */
export function diffModels(a: ScoringModel, b: ScoringModel): ModelChange[] {
  const out: ModelChange[] = [];
  for (const key of THRESHOLD_KEYS) {
    if (a.thresholds[key] !== b.thresholds[key]) {
      out.push({ kind: "threshold", key, from: a.thresholds[key], to: b.thresholds[key] });
    }
  }
  out.push(...rulesDiff("fit", a.fit.rules, b.fit.rules));
  out.push(...rulesDiff("engagement", a.engagement.rules, b.engagement.rules));
  if (a.fit.cap !== b.fit.cap)
    out.push({ kind: "cap", group: "fit", from: a.fit.cap, to: b.fit.cap });
  if (a.engagement.cap !== b.engagement.cap) {
    out.push({ kind: "cap", group: "engagement", from: a.engagement.cap, to: b.engagement.cap });
  }
  if (!same(a.engagement.inactivity, b.engagement.inactivity)) {
    out.push({
      kind: "inactivity",
      from: inactivity(a.engagement.inactivity),
      to: inactivity(b.engagement.inactivity),
    });
  }
  for (const key of ["A", "B", "C"] as const) {
    if (a.grades[key] !== b.grades[key]) {
      out.push({ kind: "band", bands: "grades", key, from: a.grades[key], to: b.grades[key] });
    }
  }
  for (const key of ["1", "2", "3"] as const) {
    if (a.levels[key] !== b.levels[key]) {
      out.push({ kind: "band", bands: "levels", key, from: a.levels[key], to: b.levels[key] });
    }
  }
  if (a.name !== b.name) out.push({ kind: "other", path: "name", from: a.name, to: b.name });
  if ((a.description ?? "") !== (b.description ?? "")) {
    out.push({
      kind: "other",
      path: "description",
      from: a.description ?? "none",
      to: b.description ?? "none",
    });
  }
  if (!same(a.segment, b.segment))
    out.push({ kind: "segment", from: describeSegment(a), to: describeSegment(b) });
  return out;
}

const THRESHOLD_NAMES = { mql: "MQL threshold", sql: "SQL threshold", hysteresis: "Hysteresis" };
const GROUP_NAMES: Record<Group, string> = { fit: "Fit", engagement: "Engagement" };

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

export function describeChange(c: ModelChange): string {
  switch (c.kind) {
    case "threshold":
      return `${THRESHOLD_NAMES[c.key]}: ${c.from} → ${c.to}`;
    case "points":
      return `${c.label} (${c.ruleId}): ${signed(c.from)} → ${signed(c.to)} points`;
    case "rule-added":
      return `New ${c.group} rule ${c.label} (${c.ruleId}): ${signed(c.points)} points, ${c.what}`;
    case "rule-removed":
      return `Removed ${c.group} rule ${c.label} (${c.ruleId})`;
    case "rule-setting":
      return `${c.label} (${c.ruleId}) ${c.setting}: ${c.from} → ${c.to}`;
    case "cap":
      return `${GROUP_NAMES[c.group]} cap: ${c.from} → ${c.to}`;
    case "inactivity":
      return `Inactivity penalty: ${c.from} → ${c.to}`;
    case "band":
      return `${c.bands === "grades" ? "Grade" : "Level"} ${c.key} starts at: ${c.from} → ${c.to}`;
    case "segment":
      return `Segment: ${c.from} → ${c.to}`;
    case "other":
      return `Model ${c.path}: ${c.from} → ${c.to}`;
  }
}

function validated(model: unknown, fallbackField: string): ScoringModel {
  const parsed = modelSchema.safeParse(model);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String) ?? [];
  // Point at the threshold key or the rule id, the names the editing surfaces use.
  const field =
    path[0] === "thresholds" && path[1]
      ? path[1]
      : path[1] === "rules" && typeof issue?.path[2] === "number"
        ? (((model as ScoringModel)[path[0] as "fit" | "engagement"]?.rules[issue.path[2]]?.id as
            | string
            | undefined) ?? fallbackField)
        : fallbackField;
  throw new InvalidChangeError(field, issue?.message ?? "is invalid");
}

/** The model with new thresholds; keys left out keep their value. */
export function withThresholds(
  model: ScoringModel,
  thresholds: Partial<ScoringModel["thresholds"]>,
): ScoringModel {
  for (const [key, v] of Object.entries(thresholds)) {
    if (!(THRESHOLD_KEYS as readonly string[]).includes(key)) {
      throw new InvalidChangeError(key, `${key} is not a threshold (use mql, sql or hysteresis)`);
    }
    if (v !== undefined && !Number.isFinite(v)) {
      throw new InvalidChangeError(key, `${key} must be a number`);
    }
  }
  const defined = Object.fromEntries(Object.entries(thresholds).filter(([, v]) => v !== undefined));
  return validated({ ...model, thresholds: { ...model.thresholds, ...defined } }, "thresholds");
}

/** The model with new points for the rules named (by id); other rules keep theirs. */
export function withWeights(model: ScoringModel, weights: Record<string, number>): ScoringModel {
  const known = new Set([...model.fit.rules, ...model.engagement.rules].map((r) => r.id));
  for (const [id, points] of Object.entries(weights)) {
    if (!known.has(id)) throw new InvalidChangeError(id, `no rule has id "${id}"`);
    if (!Number.isFinite(points))
      throw new InvalidChangeError(id, `points for ${id} must be a number`);
  }
  const set = <R extends { id: string; points: number }>(r: R): R =>
    weights[r.id] === undefined ? r : { ...r, points: weights[r.id] as number };
  return validated(
    {
      ...model,
      fit: { ...model.fit, rules: model.fit.rules.map(set) },
      engagement: { ...model.engagement, rules: model.engagement.rules.map(set) },
    },
    "weights",
  );
}

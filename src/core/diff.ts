import { modelSchema, type ScoringModel } from "./model.js";
import { describeSegment } from "./segments.js";

/** One difference between two models, in terms a manager reads in an approval message. */
export type ModelChange =
  | { kind: "threshold"; key: "mql" | "sql" | "hysteresis"; from: number; to: number }
  | {
      kind: "points";
      group: "fit" | "engagement";
      ruleId: string;
      label: string;
      from: number;
      to: number;
    }
  | {
      kind: "rule-added";
      group: "fit" | "engagement";
      ruleId: string;
      label: string;
      points: number;
    }
  | { kind: "rule-removed"; group: "fit" | "engagement"; ruleId: string; label: string }
  | { kind: "segment"; from: string; to: string }
  | { kind: "other"; path: string };

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

function rulesDiff(
  group: "fit" | "engagement",
  a: readonly { id: string; label: string; points: number }[],
  b: readonly { id: string; label: string; points: number }[],
): ModelChange[] {
  const out: ModelChange[] = [];
  const before = new Map(a.map((r) => [r.id, r]));
  const after = new Map(b.map((r) => [r.id, r]));
  for (const r of b) {
    const old = before.get(r.id);
    if (!old)
      out.push({ kind: "rule-added", group, ruleId: r.id, label: r.label, points: r.points });
    else if (old.points !== r.points) {
      out.push({
        kind: "points",
        group,
        ruleId: r.id,
        label: r.label,
        from: old.points,
        to: r.points,
      });
    }
    if (old) {
      const { points: _p1, ...restOld } = old;
      const { points: _p2, ...restNew } = r;
      if (JSON.stringify(restOld) !== JSON.stringify(restNew)) {
        out.push({ kind: "other", path: `${group}.rules.${r.id}` });
      }
    }
  }
  for (const r of a) {
    if (!after.has(r.id)) out.push({ kind: "rule-removed", group, ruleId: r.id, label: r.label });
  }
  return out;
}

/** What changed from `a` to `b`: thresholds, rule points, rules added or removed, and the rest. */
export function diffModels(a: ScoringModel, b: ScoringModel): ModelChange[] {
  const out: ModelChange[] = [];
  for (const key of THRESHOLD_KEYS) {
    if (a.thresholds[key] !== b.thresholds[key]) {
      out.push({ kind: "threshold", key, from: a.thresholds[key], to: b.thresholds[key] });
    }
  }
  out.push(...rulesDiff("fit", a.fit.rules, b.fit.rules));
  out.push(...rulesDiff("engagement", a.engagement.rules, b.engagement.rules));
  const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (a.fit.cap !== b.fit.cap) out.push({ kind: "other", path: "fit.cap" });
  if (a.engagement.cap !== b.engagement.cap) out.push({ kind: "other", path: "engagement.cap" });
  if (!same(a.engagement.inactivity, b.engagement.inactivity)) {
    out.push({ kind: "other", path: "engagement.inactivity" });
  }
  if (!same(a.grades, b.grades)) out.push({ kind: "other", path: "grades" });
  if (!same(a.levels, b.levels)) out.push({ kind: "other", path: "levels" });
  if (!same(a.segment, b.segment))
    out.push({ kind: "segment", from: describeSegment(a), to: describeSegment(b) });
  if (a.name !== b.name || a.description !== b.description)
    out.push({ kind: "other", path: "name" });
  return out;
}

const THRESHOLD_NAMES = { mql: "MQL threshold", sql: "SQL threshold", hysteresis: "Hysteresis" };

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

export function describeChange(c: ModelChange): string {
  switch (c.kind) {
    case "threshold":
      return `${THRESHOLD_NAMES[c.key]}: ${c.from} → ${c.to}`;
    case "points":
      return `${c.label} (${c.ruleId}): ${signed(c.from)} → ${signed(c.to)} points`;
    case "rule-added":
      return `New ${c.group} rule ${c.label} (${c.ruleId}): ${signed(c.points)} points`;
    case "rule-removed":
      return `Removed ${c.group} rule ${c.label} (${c.ruleId})`;
    case "segment":
      return `Segment: ${c.from} → ${c.to}`;
    case "other":
      return `Changed ${c.path}`;
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

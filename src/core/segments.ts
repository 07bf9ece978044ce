import { fitRuleMatches } from "./engine.js";
import { type Condition, DEFAULT_MODEL_KEY, type LeadFacts, type ScoringModel } from "./model.js";

/** The key a model is stored and named under: models without one are the default model. */
export function modelKeyOf(model: ScoringModel): string {
  return model.key ?? DEFAULT_MODEL_KEY;
}

/** Whether a model's segment takes the lead; the default model takes every lead. */
export function segmentMatches(lead: LeadFacts, model: ScoringModel): boolean {
  return model.segment === undefined || fitRuleMatches(lead, model.segment.when);
}

/** One active model with its version. */
export interface KeyedModel {
  key: string;
  version: number;
  model: ScoringModel;
}

/**
 * The active models in the order leads are offered to them: segments by ascending priority, then
 * by key (so equal priorities still give one stable order), and the default model last.
 */
export function orderModels<T extends KeyedModel>(models: readonly T[]): T[] {
  const priority = (m: T) =>
    m.model.segment === undefined ? Number.POSITIVE_INFINITY : m.model.segment.priority;
  return [...models].sort(
    (a, b) => priority(a) - priority(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/**
 * The active models of an install, and which one scores a lead: the first segment (in order)
 * that takes it, otherwise the default model. Segments are evaluated once per lead, from its
 * facts only; with the default model alone nothing is evaluated at all.
 */
export class ModelSet<T extends KeyedModel = KeyedModel> {
  readonly ordered: readonly T[];
  private readonly segmented: readonly T[];
  private readonly fallback: T;
  private readonly byKey: ReadonlyMap<string, T>;

  constructor(models: readonly T[]) {
    if (models.length === 0) throw new Error("a model set needs at least one model");
    this.ordered = orderModels(models);
    this.segmented = this.ordered.filter((m) => m.model.segment !== undefined);
    this.byKey = new Map(this.ordered.map((m) => [m.key, m]));
    // A store always holds the default model; the last in order stands in should it not.
    this.fallback = this.byKey.get(DEFAULT_MODEL_KEY) ?? (this.ordered.at(-1) as T);
  }

  /** The model that scores this lead. */
  pick(lead: LeadFacts): T {
    for (const m of this.segmented) if (segmentMatches(lead, m.model)) return m;
    return this.fallback;
  }

  get(key: string): T | undefined {
    return this.byKey.get(key);
  }

  /** The same set with one model put in (or replaced by key): what a proposal would activate. */
  with(model: T): ModelSet<T> {
    return new ModelSet([...this.ordered.filter((m) => m.key !== model.key), model]);
  }
}

/** A condition as a manager reads it: `country one of DE, FR`. */
export function describeCondition(c: Condition): string {
  switch (c.op) {
    case "equals":
      return `${c.field} = ${c.value}`;
    case "oneOf":
      return `${c.field} one of ${c.values.join(", ")}`;
    case "containsAny":
      return `${c.field} contains ${c.values.join(" or ")}`;
    case "hasWord":
      return `${c.field} has ${c.values.join(" or ")}`;
    case "range":
      return c.min !== undefined && c.max !== undefined
        ? `${c.field} ${c.min}–${c.max}`
        : c.min !== undefined
          ? `${c.field} ≥ ${c.min}`
          : `${c.field} ≤ ${c.max}`;
    case "present":
      return `${c.field} present`;
    case "absent":
      return `${c.field} absent`;
  }
}

/** A model's segment in one line, or "every other lead" for the default model. */
export function describeSegment(model: ScoringModel): string {
  if (!model.segment) return "every other lead";
  return `${model.segment.when.map(describeCondition).join(" and ")} (priority ${model.segment.priority})`;
}

/** A copy of `base` as a new model: its own key, name and segment, the same rules and bands. */
export function segmentedCopy(
  base: ScoringModel,
  p: { key: string; segment: { when: Condition[]; priority: number }; name?: string | undefined },
): ScoringModel {
  return {
    ...base,
    key: p.key,
    segment: p.segment,
    name: p.name ?? `${base.name} (${p.key})`,
  };
}

/**
 * `field=value` or `field=a,b,c` as a condition: one value is `equals`, several are `oneOf`.
 * The short form the CLI takes for a segment; anything richer goes in a model file.
 */
export function parseFieldEquals(text: string): Condition | undefined {
  const at = text.indexOf("=");
  if (at <= 0) return undefined;
  const field = text.slice(0, at).trim();
  const values = text
    .slice(at + 1)
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (values.length === 0) return undefined;
  return values.length === 1
    ? { field, op: "equals", value: values[0] as string }
    : { field, op: "oneOf", values };
}

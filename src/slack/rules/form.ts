import { z } from "zod";
import {
  type Condition,
  DEFAULT_MODEL_KEY,
  MODEL_KEY,
  modelSchema,
  type ScoringModel,
} from "../../core/model.js";
import {
  decodePick,
  encodePick,
  RULE_FIELD_BLOCKS,
  type RulePick,
  SETTINGS_BLOCKS,
} from "../blocks/rules.js";
import { parseJsonWith } from "../edge.js";

/**
 * What a rules modal remembers: the model version it was opened on, the rule picked and, for a
 * model other than the default, its key.
 */
const metadataSchema = z.object({
  v: z.number().int().positive(),
  p: z.string(),
  m: z.string().regex(MODEL_KEY).optional(),
});

export interface RulesMetadata {
  version: number;
  pick: RulePick;
  /** The key of the model being edited; absent for the default model. */
  model?: string | undefined;
}

export function encodeRulesMetadata(m: RulesMetadata): string {
  return JSON.stringify({
    v: m.version,
    p: encodePick(m.pick),
    ...(m.model && m.model !== DEFAULT_MODEL_KEY ? { m: m.model } : {}),
  });
}

export function decodeRulesMetadata(raw: string | undefined): RulesMetadata | undefined {
  const m = parseJsonWith(metadataSchema, raw);
  const pick = m ? decodePick(m.p) : undefined;
  return m && pick ? { version: m.v, pick, ...(m.m ? { model: m.m } : {}) } : undefined;
}

/** `view.state.values` as Slack sends it: block id → action id → the element's value. */
export type RulesState = Record<
  string,
  Record<string, { value?: string | null; selected_options?: { value: string }[] }>
>;

export type FieldErrors = Record<string, string>;

/** The value of a field by its base block id (rule fields carry the pick after an @). */
function entryOf(state: RulesState, block: string) {
  const key = Object.keys(state).find((k) => k === block || k.startsWith(`${block}@`));
  return key === undefined ? undefined : Object.values(state[key] ?? {})[0];
}

function textOf(state: RulesState, block: string): string {
  return (entryOf(state, block)?.value ?? "").trim();
}

function checked(state: RulesState, block: string): boolean {
  return (entryOf(state, block)?.selected_options ?? []).length > 0;
}

function num(s: string): number | undefined {
  if (!/^-?\d+(\.\d+)?$/.test(s)) return undefined;
  return Number(s);
}

function scalar(s: string): string | number {
  return num(s) ?? s;
}

const OPS = ["equals", "oneOf", "containsAny", "hasWord", "range", "present", "absent"];

/**
 * Conditions typed one per line as `field op values`: values are comma-separated, a range is
 * `min..max` (either side may be empty). Returns the conditions or the first line at fault.
 */
export function parseConditions(text: string): Condition[] | string {
  const out: Condition[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "") continue;
    const m = /^(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    const where = `Line ${i + 1}`;
    if (!m) return `${where}: write field, op and values, e.g. "title hasWord vp".`;
    const [, field = "", op = "", rest = ""] = m;
    if (!OPS.includes(op)) return `${where}: "${op}" is not an op; use one of ${OPS.join(", ")}.`;
    const values = rest
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (op === "present" || op === "absent") {
      out.push({ field, op });
      continue;
    }
    if (op === "range") {
      const r = /^(-?[\d.]*)\s*\.\.\s*(-?[\d.]*)$/.exec(rest.trim());
      const min = r?.[1] ? num(r[1]) : undefined;
      const max = r?.[2] ? num(r[2]) : undefined;
      if (!r || (min === undefined && max === undefined))
        return `${where}: a range is min..max, e.g. "employees range 100..5000".`;
      out.push({
        field,
        op,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
      });
      continue;
    }
    if (values.length === 0) return `${where}: "${op}" needs a value.`;
    if (op === "equals") out.push({ field, op, value: scalar(values.join(", ")) });
    else if (op === "oneOf") out.push({ field, op, values: values.map(scalar) });
    else out.push({ field, op: op as "containsAny" | "hasWord", values });
  }
  return out;
}

export type FormResult = { ok: true; model: ScoringModel } | { ok: false; errors: FieldErrors };

/** The block that shows a model-schema issue, from the path of the rule being edited. */
function ruleBlockOf(path: readonly PropertyKey[]): string {
  const key = String(path[3] ?? "id");
  const known: Record<string, string> = {
    id: RULE_FIELD_BLOCKS.id,
    label: RULE_FIELD_BLOCKS.label,
    points: RULE_FIELD_BLOCKS.points,
    when: RULE_FIELD_BLOCKS.when,
    event: RULE_FIELD_BLOCKS.event,
    where: RULE_FIELD_BLOCKS.where,
    maxCount: RULE_FIELD_BLOCKS.maxCount,
    windowDays: RULE_FIELD_BLOCKS.windowDays,
    halfLifeDays: RULE_FIELD_BLOCKS.halfLifeDays,
  };
  return known[key] ?? RULE_FIELD_BLOCKS.id;
}

function validated(model: unknown, blockOf: (path: readonly PropertyKey[]) => string): FormResult {
  const parsed = modelSchema.safeParse(model);
  if (parsed.success) return { ok: true, model: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const block = blockOf(issue.path);
    errors[block] ??= issue.message;
  }
  return { ok: false, errors };
}

/** The active model with the picked rule added, replaced or removed, as the form says. */
export function readRuleForm(model: ScoringModel, pick: RulePick, state: RulesState): FormResult {
  const errors: FieldErrors = {};
  const group = pick.group;
  const list = [...(group === "fit" ? model.fit.rules : model.engagement.rules)] as unknown[];
  const index =
    pick.kind === "existing"
      ? (group === "fit" ? model.fit.rules : model.engagement.rules).findIndex(
          (r) => r.id === pick.id,
        )
      : -1;
  if (pick.kind === "existing" && index < 0)
    return {
      ok: false,
      errors: { [RULE_FIELD_BLOCKS.id]: `Rule ${pick.id} is no longer in the model.` },
    };

  if (pick.kind === "existing" && checked(state, RULE_FIELD_BLOCKS.remove)) {
    list.splice(index, 1);
  } else {
    const points = num(textOf(state, RULE_FIELD_BLOCKS.points));
    if (points === undefined)
      errors[RULE_FIELD_BLOCKS.points] = "Points are a number, e.g. 10 or -20.";
    const rule: Record<string, unknown> = {
      id: textOf(state, RULE_FIELD_BLOCKS.id),
      label: textOf(state, RULE_FIELD_BLOCKS.label),
      points,
    };
    if (group === "fit") {
      const when = parseConditions(textOf(state, RULE_FIELD_BLOCKS.when));
      if (typeof when === "string") errors[RULE_FIELD_BLOCKS.when] = when;
      else rule.when = when;
    } else {
      rule.event = textOf(state, RULE_FIELD_BLOCKS.event);
      const where = parseConditions(textOf(state, RULE_FIELD_BLOCKS.where));
      if (typeof where === "string") errors[RULE_FIELD_BLOCKS.where] = where;
      else rule.where = where;
      const numbers = [
        ["maxCount", RULE_FIELD_BLOCKS.maxCount, true],
        ["windowDays", RULE_FIELD_BLOCKS.windowDays, false],
        ["halfLifeDays", RULE_FIELD_BLOCKS.halfLifeDays, false],
      ] as const;
      for (const [key, block, required] of numbers) {
        const raw = textOf(state, block);
        if (raw === "" && !required) continue;
        const v = num(raw);
        if (v === undefined) errors[block] = "Write a number of days or occurrences, e.g. 30.";
        else rule[key] = v;
      }
    }
    if (index >= 0) list[index] = rule;
    else list.push(rule);
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const next =
    group === "fit"
      ? { ...model, fit: { ...model.fit, rules: list } }
      : { ...model, engagement: { ...model.engagement, rules: list } };
  const at = index >= 0 ? index : list.length - 1;
  return validated(next, (path) =>
    path[0] === group && path[1] === "rules" && path[2] === at
      ? ruleBlockOf(path)
      : RULE_FIELD_BLOCKS.id,
  );
}

/** The active model with the settings form's caps, inactivity penalty and bands. */
export function readSettingsForm(model: ScoringModel, state: RulesState): FormResult {
  const errors: FieldErrors = {};
  const read = (block: string): number | undefined => {
    const raw = textOf(state, block);
    if (raw === "") return undefined;
    const v = num(raw);
    if (v === undefined) errors[block] = "Write a number, e.g. 40.";
    return v;
  };
  const b = SETTINGS_BLOCKS;
  const values = Object.fromEntries(
    (Object.keys(b) as (keyof typeof b)[]).filter((k) => k !== "note").map((k) => [k, read(b[k])]),
  ) as Record<Exclude<keyof typeof b, "note">, number | undefined>;
  for (const k of [
    "fitCap",
    "engagementCap",
    "gradeA",
    "gradeB",
    "gradeC",
    "level1",
    "level2",
    "level3",
  ] as const) {
    if (values[k] === undefined && !errors[b[k]]) errors[b[k]] = "Required.";
  }
  const days = values.inactivityAfterDays;
  const penalty = values.inactivityPoints;
  if ((days === undefined) !== (penalty === undefined)) {
    const missing = days === undefined ? b.inactivityAfterDays : b.inactivityPoints;
    errors[missing] ??= "Give both inactivity fields, or neither for no penalty.";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const { inactivity: _old, ...engagement } = model.engagement;
  const next = {
    ...model,
    fit: { ...model.fit, cap: values.fitCap },
    engagement: {
      ...engagement,
      cap: values.engagementCap,
      ...(days !== undefined ? { inactivity: { afterDays: days, points: penalty } } : {}),
    },
    grades: { A: values.gradeA, B: values.gradeB, C: values.gradeC },
    levels: { "1": values.level1, "2": values.level2, "3": values.level3 },
  };
  return validated(next, (path) => {
    const p = path.map(String).join(".");
    if (p === "fit.cap") return b.fitCap;
    if (p === "engagement.cap") return b.engagementCap;
    if (p === "engagement.inactivity.afterDays") return b.inactivityAfterDays;
    if (p.startsWith("engagement.inactivity")) return b.inactivityPoints;
    if (p.startsWith("grades")) return b.gradeA;
    if (p.startsWith("levels")) return b.level1;
    return b.fitCap;
  });
}

export function readNote(state: RulesState): string | undefined {
  return textOf(state, RULE_FIELD_BLOCKS.note) || undefined;
}

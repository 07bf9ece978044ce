import { z } from "zod";
import { DEFAULT_MODEL_KEY, MODEL_KEY, type ScoringModel } from "../../core/model.js";
import type { ProposedChange } from "../../services/proposals.js";
import { parseJsonWith } from "../edge.js";
import {
  TUNING_HYSTERESIS_ACTION,
  TUNING_HYSTERESIS_BLOCK,
  TUNING_MQL_ACTION,
  TUNING_MQL_BLOCK,
  TUNING_NOTE_ACTION,
  TUNING_NOTE_BLOCK,
  TUNING_RULE_PICKER_ACTION,
  TUNING_RULE_PICKER_BLOCK,
  TUNING_SQL_ACTION,
  TUNING_SQL_BLOCK,
  TUNING_WEIGHT_ACTION,
  TUNING_WEIGHT_BLOCK_PREFIX,
} from "../ids.js";

/**
 * Slack `view.state.values` of a tuning modal → a proposed change, or the fields at fault keyed by
 * block id (what `response_action: "errors"` takes). Pure, so every input and mistake is tested as
 * plain data.
 */

/** Rule points, as the model schema bounds them. */
export const MAX_POINTS = 1000;
/** A proposal note longer than this is an essay; the modal caps the field at the same length. */
export const MAX_NOTE = 1000;

const stateValue = z.looseObject({
  type: z.string().optional(),
  value: z.string().nullish(),
  selected_options: z.array(z.looseObject({ value: z.string() })).nullish(),
});
export const viewStateSchema = z.record(z.string(), z.record(z.string(), stateValue));
export type ViewState = z.infer<typeof viewStateSchema>;

/** The view fields a tuning listener reads, parsed once at the edge. */
export const tuningViewSchema = z.looseObject({
  id: z.string(),
  hash: z.string().optional(),
  private_metadata: z.string().default(""),
  state: z.looseObject({ values: viewStateSchema }).default({ values: {} }),
});
export type TuningView = z.infer<typeof tuningViewSchema>;

/** What a tuning modal carries between requests: the model version its values were read from. */
export interface TuningMetadata {
  kind: "thresholds" | "weights";
  version: number;
  /** The key of the model being tuned; absent for the default model. */
  model?: string | undefined;
}

const metadataSchema = z.object({
  kind: z.enum(["thresholds", "weights"]),
  version: z.number().int().positive(),
  model: z.string().regex(MODEL_KEY).optional(),
});

export function encodeTuningMetadata(m: TuningMetadata): string {
  return JSON.stringify({
    kind: m.kind,
    version: m.version,
    ...(m.model && m.model !== DEFAULT_MODEL_KEY ? { model: m.model } : {}),
  });
}

/** Undefined when the metadata is not one of ours (a modal built by an older release, say). */
export function decodeTuningMetadata(raw: string | undefined): TuningMetadata | undefined {
  return parseJsonWith(metadataSchema, raw);
}

export type FieldErrors = Record<string, string>;

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

function text(state: ViewState, block: string, action: string): string | undefined {
  const v = state[block]?.[action]?.value;
  return v === null || v === undefined ? undefined : v;
}

/** Plain decimal numbers only: "1e3", "0x10" and "12abc" are typos, not numbers. */
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** A field's number, or the sentence to show under it. Empty means "unchanged". */
export function readNumber(raw: string | undefined): number | undefined | { error: string } {
  const s = raw?.trim() ?? "";
  if (s === "") return undefined;
  if (!NUMBER.test(s))
    return { error: `"${s.slice(0, 40)}" is not a number: enter digits, like 50 or 12.5.` };
  return Number(s);
}

function isError(v: number | undefined | { error: string }): v is { error: string } {
  return typeof v === "object";
}

export function readNote(state: ViewState): string | undefined {
  const note = text(state, TUNING_NOTE_BLOCK, TUNING_NOTE_ACTION)?.trim();
  return note ? note.slice(0, MAX_NOTE) : undefined;
}

export type Thresholds = ScoringModel["thresholds"];
export type ThresholdKey = keyof Thresholds;

export const THRESHOLD_FIELDS: Record<ThresholdKey, { block: string; action: string }> = {
  mql: { block: TUNING_MQL_BLOCK, action: TUNING_MQL_ACTION },
  sql: { block: TUNING_SQL_BLOCK, action: TUNING_SQL_ACTION },
  hysteresis: { block: TUNING_HYSTERESIS_BLOCK, action: TUNING_HYSTERESIS_ACTION },
};

/** The raw text of each threshold field, to show again after the modal is rebuilt. */
export function thresholdTexts(state: ViewState): Partial<Record<ThresholdKey, string>> {
  const out: Partial<Record<ThresholdKey, string>> = {};
  for (const [key, f] of Object.entries(THRESHOLD_FIELDS) as [
    ThresholdKey,
    (typeof THRESHOLD_FIELDS)[ThresholdKey],
  ][]) {
    const v = text(state, f.block, f.action);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * The thresholds the modal asks for. Empty fields keep the current value; the result holds only
 * the keys that differ from `current` (an empty change is still `ok`: callers say "nothing changed").
 */
export function readThresholds(
  state: ViewState,
  current: Thresholds,
): Parsed<Extract<ProposedChange, { kind: "thresholds" }>> {
  const errors: FieldErrors = {};
  const next: Thresholds = { ...current };
  for (const [key, f] of Object.entries(THRESHOLD_FIELDS) as [
    ThresholdKey,
    (typeof THRESHOLD_FIELDS)[ThresholdKey],
  ][]) {
    const v = readNumber(text(state, f.block, f.action));
    if (isError(v)) errors[f.block] = v.error;
    else if (v !== undefined) next[key] = v;
  }
  if (!errors[TUNING_HYSTERESIS_BLOCK] && next.hysteresis < 0) {
    errors[TUNING_HYSTERESIS_BLOCK] =
      "Hysteresis cannot be negative: 0 lets a lead drop back as soon as it falls below a threshold.";
  }
  if (!errors[TUNING_SQL_BLOCK] && !errors[TUNING_MQL_BLOCK] && next.sql <= next.mql) {
    errors[TUNING_SQL_BLOCK] = `The SQL threshold must be above the MQL threshold (${next.mql}).`;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  const thresholds: Partial<Thresholds> = {};
  for (const key of Object.keys(THRESHOLD_FIELDS) as ThresholdKey[]) {
    if (next[key] !== current[key]) thresholds[key] = next[key];
  }
  return { ok: true, value: { kind: "thresholds", thresholds } };
}

export function weightBlockId(ruleId: string): string {
  return `${TUNING_WEIGHT_BLOCK_PREFIX}${ruleId}`;
}

/** The rule ids whose inputs the modal holds, in the order of the state. */
export function weightRuleIds(state: ViewState): string[] {
  return Object.keys(state)
    .filter((b) => b.startsWith(TUNING_WEIGHT_BLOCK_PREFIX) && state[b]?.[TUNING_WEIGHT_ACTION])
    .map((b) => b.slice(TUNING_WEIGHT_BLOCK_PREFIX.length));
}

/** The raw text of each weight field, keyed by rule id. */
export function weightTexts(state: ViewState): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of weightRuleIds(state)) {
    const v = text(state, weightBlockId(id), TUNING_WEIGHT_ACTION);
    if (v !== undefined) out[id] = v;
  }
  return out;
}

/** Rule ids chosen in the rule picker, or undefined when the modal has no picker. */
export function pickedRules(state: ViewState): string[] | undefined {
  const picker = state[TUNING_RULE_PICKER_BLOCK]?.[TUNING_RULE_PICKER_ACTION];
  if (!picker) return undefined;
  return (picker.selected_options ?? []).map((o) => o.value);
}

type AnyRule = ScoringModel["fit"]["rules"][number] | ScoringModel["engagement"]["rules"][number];

/** Why `points` cannot go on `rule`, in the words shown under its field. */
export function pointsProblem(rule: AnyRule, points: number): string | undefined {
  if (points === 0) {
    return "Points cannot be 0: use a small value such as 1 or -1 (a rule is removed in the model file).";
  }
  if (Math.abs(points) > MAX_POINTS) {
    return `Points must be between -${MAX_POINTS} and ${MAX_POINTS}.`;
  }
  if (points < 0 && "halfLifeDays" in rule && rule.halfLifeDays !== undefined) {
    return `This rule decays (half-life ${rule.halfLifeDays} days), and a decaying rule must stay positive: its penalty would shrink over time.`;
  }
  return undefined;
}

/**
 * New points per rule from the weight fields. Empty fields keep the current points; the result
 * holds only rules whose points change.
 */
export function readWeights(
  state: ViewState,
  model: ScoringModel,
): Parsed<Extract<ProposedChange, { kind: "weights" }>> {
  const rules = new Map<string, AnyRule>(
    [...model.fit.rules, ...model.engagement.rules].map((r) => [r.id, r]),
  );
  const errors: FieldErrors = {};
  const weights: Record<string, number> = {};
  for (const id of weightRuleIds(state)) {
    const block = weightBlockId(id);
    const rule = rules.get(id);
    if (!rule) {
      errors[block] =
        "This rule is no longer in the active model: close this and run /lead weights again.";
      continue;
    }
    const v = readNumber(text(state, block, TUNING_WEIGHT_ACTION));
    if (isError(v)) {
      errors[block] = v.error;
      continue;
    }
    if (v === undefined || v === rule.points) continue;
    const problem = pointsProblem(rule, v);
    if (problem) errors[block] = problem;
    else weights[id] = v;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { kind: "weights", weights } };
}

/** True when a parsed change changes nothing. */
export function isEmptyChange(change: ProposedChange): boolean {
  // A whole model is compared with the active one when its proposal is previewed.
  if (change.kind === "model") return false;
  return change.kind === "thresholds"
    ? Object.keys(change.thresholds).length === 0
    : Object.keys(change.weights).length === 0;
}

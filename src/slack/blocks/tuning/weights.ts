import type { types } from "@slack/bolt";
import type { ScoringModel } from "../../../core/model.js";
import {
  TUNING_RULE_PICKER_ACTION,
  TUNING_RULE_PICKER_BLOCK,
  TUNING_WEIGHT_ACTION,
  TUNING_WEIGHT_BLOCK_PREFIX,
  TUNING_WEIGHTS_MODAL,
} from "../../ids.js";
import { context, divider, header, type KnownBlock, num } from "../common.js";
import { buildPreviewBlocks, type PreviewState } from "./preview.js";
import {
  intro,
  MAX_GROUP_OPTIONS,
  MAX_LABEL,
  MAX_OPTION_TEXT,
  MAX_RULE_INPUTS,
  type ModalView,
  type ModelRef,
  modal,
  noteInput,
  numberInput,
  plain,
} from "./shared.js";

/** The weights modal: one points field per rule, or a rule picker when a model has many. */

export interface RuleWeight {
  id: string;
  label: string;
  points: number;
  group: "fit" | "engagement";
  /** A short description of what the rule matches, shown as the field's hint. */
  detail?: string | undefined;
}

/** The rules of a model as the weights modal lists them. */
export function ruleWeights(model: ScoringModel): RuleWeight[] {
  return [
    ...model.fit.rules.map((r) => ({
      id: r.id,
      label: r.label,
      points: r.points,
      group: "fit" as const,
      detail: r.when.map((c) => c.field).join(", "),
    })),
    ...model.engagement.rules.map((r) => {
      const decay = r.halfLifeDays !== undefined ? `, half-life ${r.halfLifeDays} days` : "";
      const window = r.windowDays !== undefined ? `, last ${r.windowDays} days` : "";
      return {
        id: r.id,
        label: r.label,
        points: r.points,
        group: "engagement" as const,
        detail: `${r.event} events, up to ${r.maxCount}${window}${decay}`,
      };
    }),
  ];
}

export interface WeightsModalInput {
  model: ModelRef;
  rules: RuleWeight[];
  /** Field texts by rule id as the person left them; missing ones show the current points. */
  values?: Record<string, string> | undefined;
  /** With more rules than MAX_RULE_INPUTS: the rule ids picked for editing. */
  picked?: readonly string[] | undefined;
  note?: string | undefined;
  preview: PreviewState;
  metadata: string;
}

/** True when a model has more rules than one modal shows, so the person picks which to edit. */
export function needsRulePicker(rules: readonly RuleWeight[]): boolean {
  return rules.length > MAX_RULE_INPUTS;
}

function option(r: RuleWeight): types.PlainTextOption {
  return { text: plain(`${r.label} (${r.id})`, MAX_OPTION_TEXT), value: r.id };
}

function rulePicker(rules: readonly RuleWeight[], picked: readonly string[]): KnownBlock {
  const groups: { label: types.PlainTextElement; options: types.PlainTextOption[] }[] = [];
  for (const group of ["fit", "engagement"] as const) {
    const of = rules.filter((r) => r.group === group);
    for (let i = 0; i < of.length; i += MAX_GROUP_OPTIONS) {
      const name = group === "fit" ? "Fit" : "Engagement";
      const label =
        of.length > MAX_GROUP_OPTIONS
          ? `${name} (${i + 1}–${Math.min(i + MAX_GROUP_OPTIONS, of.length)})`
          : name;
      groups.push({
        label: plain(label, MAX_OPTION_TEXT),
        options: of.slice(i, i + MAX_GROUP_OPTIONS).map(option),
      });
    }
  }
  const byId = new Map(rules.map((r) => [r.id, r]));
  const initial = picked.flatMap((id) => {
    const r = byId.get(id);
    return r ? [option(r)] : [];
  });
  const element: types.MultiStaticSelect = {
    type: "multi_static_select",
    action_id: TUNING_RULE_PICKER_ACTION,
    placeholder: plain("Choose rules", 150),
    option_groups: groups,
    max_selected_items: MAX_RULE_INPUTS,
  };
  if (initial.length > 0) element.initial_options = initial.slice(0, MAX_RULE_INPUTS);
  return {
    type: "input",
    block_id: TUNING_RULE_PICKER_BLOCK,
    dispatch_action: true,
    optional: true,
    label: plain(`Rules to edit (up to ${MAX_RULE_INPUTS} of ${rules.length})`, MAX_LABEL),
    element,
  };
}

function weightInput(r: RuleWeight, value: string | undefined): KnownBlock {
  return numberInput({
    blockId: `${TUNING_WEIGHT_BLOCK_PREFIX}${r.id}`,
    actionId: TUNING_WEIGHT_ACTION,
    label: r.label,
    hint: `${r.id}: now ${num(r.points)} points${r.detail ? ` · ${r.detail}` : ""}`,
    value: value ?? String(r.points),
    min: -1000,
    max: 1000,
  });
}

export function buildWeightsModal(p: WeightsModalInput): ModalView {
  const picker = needsRulePicker(p.rules);
  const picked = new Set(p.picked ?? []);
  const shown = (picker ? p.rules.filter((r) => picked.has(r.id)) : p.rules).slice(
    0,
    MAX_RULE_INPUTS,
  );
  const blocks: KnownBlock[] = [intro(p.model, "Rule points")];
  if (picker) blocks.push(rulePicker(p.rules, [...picked]));
  if (picker && shown.length === 0) {
    blocks.push(context(`This model has ${p.rules.length} rules: pick the ones to edit above.`));
  }
  const groups = [
    { key: "fit", title: "Fit: who the lead is" },
    { key: "engagement", title: "Engagement: what the lead does" },
  ] as const;
  for (const g of groups) {
    const rules = shown.filter((r) => r.group === g.key);
    if (rules.length === 0) continue;
    blocks.push(header(g.title));
    for (const r of rules) blocks.push(weightInput(r, p.values?.[r.id]));
  }
  blocks.push(noteInput(p.note), divider, ...buildPreviewBlocks(p.preview));
  return modal({
    callbackId: TUNING_WEIGHTS_MODAL,
    title: "Tune weights",
    metadata: p.metadata,
    blocks,
  });
}

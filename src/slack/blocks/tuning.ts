import type { types } from "@slack/bolt";
import { z } from "zod";
import type { Impact, OutcomeAgreement } from "../../core/impact.js";
import { MIN_OUTCOMES_FOR_BACKTEST } from "../../core/impact.js";
import type { ScoringModel, Stage } from "../../core/model.js";
import {
  PROPOSAL_ACTIONS_BLOCK,
  PROPOSAL_APPROVE,
  PROPOSAL_DECISION_MODAL,
  PROPOSAL_DIFF_BLOCK,
  PROPOSAL_HEADER_BLOCK,
  PROPOSAL_IMPACT_BLOCK,
  PROPOSAL_OUTCOMES_BLOCK,
  PROPOSAL_REASON_ACTION,
  PROPOSAL_REASON_BLOCK,
  PROPOSAL_REJECT,
  PROPOSAL_STATUS_BLOCK,
  TUNING_HYSTERESIS_ACTION,
  TUNING_HYSTERESIS_BLOCK,
  TUNING_MQL_ACTION,
  TUNING_MQL_BLOCK,
  TUNING_NOTE_ACTION,
  TUNING_NOTE_BLOCK,
  TUNING_PREVIEW_BLOCK,
  TUNING_PREVIEW_DETAIL_BLOCK,
  TUNING_PREVIEW_OUTCOMES_BLOCK,
  TUNING_RULE_PICKER_ACTION,
  TUNING_RULE_PICKER_BLOCK,
  TUNING_SQL_ACTION,
  TUNING_SQL_BLOCK,
  TUNING_THRESHOLDS_MODAL,
  TUNING_WEIGHT_ACTION,
  TUNING_WEIGHT_BLOCK_PREFIX,
  TUNING_WEIGHTS_MODAL,
} from "../ids.js";
import {
  context,
  divider,
  escapeMrkdwn,
  header,
  type KnownBlock,
  MAX_BLOCKS,
  MAX_TEXT,
  MAX_TITLE,
  MAX_VIEW_BLOCKS,
  mention,
  num,
  section,
  slackDate,
  truncate,
} from "./common.js";

/**
 * Block Kit of model tuning: the thresholds and weights modals with their impact preview, the
 * proposal message managers approve or reject, its decided form, the reject modal and the
 * announcement of a new model version. Pure: plain data in, plain data out.
 */

type ModalView = types.ModalView;

/**
 * Rule fields one weights modal shows at most. With the fixed blocks (intro, picker, group
 * headers, note, preview) this stays well under Slack's 100 blocks; a model with more rules gets
 * a picker instead of every field.
 */
export const MAX_RULE_INPUTS = 60;
/** Options in one option group of a select (Slack's limit). */
export const MAX_GROUP_OPTIONS = 100;
/** Option text is plain text of at most 75 characters. */
export const MAX_OPTION_TEXT = 75;
/** Input labels and hints are at most 2000 characters; ours are short, this is a guard. */
export const MAX_LABEL = 2000;
/** Diff lines of a proposal get this many sections before "…and N more". */
export const MAX_DIFF_BLOCKS = 6;
/** Longest proposal note or decision reason the modals accept. */
export const MAX_REASON = 1000;

export const STAGE_LABEL: Record<Stage, string> = { lead: "Lead", mql: "MQL", sql: "SQL" };

/** What the foot of a tuning modal shows. */
export type PreviewState =
  /** The modal just opened; the current model's numbers are on their way. */
  | { kind: "measuring" }
  /** Nothing edited yet: how the current model stands. */
  | { kind: "baseline"; impact: Impact }
  /** The edited values, their diff and what they would do. */
  | { kind: "change"; changes: string[]; impact: Impact }
  /** Edited values that cannot be measured until fixed. */
  | { kind: "invalid"; problems: string[] }
  /** Measuring failed (the model changed meanwhile, the store is down…): a sentence to act on. */
  | { kind: "failed"; message: string };

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

function stageCounts(c: Record<Stage, number>): string {
  return (["lead", "mql", "sql"] as const)
    .map((s) => `${STAGE_LABEL[s]} ${c[s].toLocaleString("en-US")}`)
    .join(" · ");
}

/** The lines that say how many leads move, and where. */
export function impactSummary(impact: Impact): string {
  if (impact.leads === 0) return "No leads are scored yet, so nothing would move.";
  const moved = impact.up + impact.down;
  if (moved === 0)
    return `No lead of the ${count(impact.leads, "lead")} scored would change stage.`;
  const lines = [
    `*${count(moved, "lead")}* of ${impact.leads.toLocaleString("en-US")} would change stage: ${impact.up.toLocaleString("en-US")} up, ${impact.down.toLocaleString("en-US")} down.`,
    ...impact.moves.map(
      (m) => `• ${STAGE_LABEL[m.from]} → ${STAGE_LABEL[m.to]}: ${m.count.toLocaleString("en-US")}`,
    ),
  ];
  return lines.join("\n");
}

function agreementLine(a: OutcomeAgreement): string {
  return `${pct(a.winRecall)} of won leads qualified, ${pct(a.precision)} of qualified outcomes won`;
}

/** Outcome agreement before and after, or how many outcomes are still needed for it. */
export function outcomesLine(impact: Impact, baseline = false): string {
  const labelled = impact.labelled.won + impact.labelled.notWon;
  if (!impact.outcomes) {
    return `Checked against recorded outcomes once there are ${MIN_OUTCOMES_FOR_BACKTEST} (${labelled} so far).`;
  }
  const basis = `${count(labelled, "recorded outcome")} (${impact.labelled.won} won)`;
  if (baseline) return `Against ${basis}: ${agreementLine(impact.outcomes.before)}.`;
  return `Against ${basis}:\nnow ${agreementLine(impact.outcomes.before)};\nafter ${agreementLine(impact.outcomes.after)}.`;
}

function impactFields(impact: Impact): types.SectionBlock["fields"] {
  return [
    { type: "mrkdwn", text: `*Now*\n${stageCounts(impact.before)}` },
    { type: "mrkdwn", text: `*After*\n${stageCounts(impact.after)}` },
  ];
}

function bullets(lines: readonly string[]): string {
  return lines.map((l) => `• ${escapeMrkdwn(l)}`).join("\n");
}

/** The impact preview of a tuning modal: always three blocks, so the layout does not jump. */
export function buildPreviewBlocks(p: PreviewState): KnownBlock[] {
  const hint = "Press Enter in a field to see the impact of your values.";
  switch (p.kind) {
    case "measuring":
      return [
        section(
          "*Impact*\n:hourglass_flowing_sand: Measuring the current model…",
          TUNING_PREVIEW_BLOCK,
        ),
        contextWithId(
          "Stage counts now and after your change appear here.",
          TUNING_PREVIEW_DETAIL_BLOCK,
        ),
        contextWithId(hint, TUNING_PREVIEW_OUTCOMES_BLOCK),
      ];
    case "baseline":
      return [
        section(
          `*Impact*\nNothing changed yet. The current model scores ${count(p.impact.leads, "lead")}: ${stageCounts(p.impact.before)}.`,
          TUNING_PREVIEW_BLOCK,
        ),
        section(outcomesLine(p.impact, true), TUNING_PREVIEW_DETAIL_BLOCK),
        contextWithId(hint, TUNING_PREVIEW_OUTCOMES_BLOCK),
      ];
    case "change": {
      const changes = truncate(bullets(p.changes), MAX_TEXT - 200);
      return [
        section(`*Impact of*\n${changes}\n\n${impactSummary(p.impact)}`, TUNING_PREVIEW_BLOCK),
        {
          type: "section",
          block_id: TUNING_PREVIEW_DETAIL_BLOCK,
          fields: impactFields(p.impact),
        },
        contextWithId(outcomesLine(p.impact), TUNING_PREVIEW_OUTCOMES_BLOCK),
      ];
    }
    case "invalid":
      return [
        section(
          `*Impact*\n:warning: Fix these values to see the impact:\n${bullets(p.problems)}`,
          TUNING_PREVIEW_BLOCK,
        ),
        contextWithId(
          "Stage counts appear here once the values can be measured.",
          TUNING_PREVIEW_DETAIL_BLOCK,
        ),
        contextWithId(hint, TUNING_PREVIEW_OUTCOMES_BLOCK),
      ];
    case "failed":
      return [
        section(`*Impact*\n:warning: ${escapeMrkdwn(p.message)}`, TUNING_PREVIEW_BLOCK),
        contextWithId(
          "Stage counts appear here once the impact can be measured.",
          TUNING_PREVIEW_DETAIL_BLOCK,
        ),
        contextWithId(hint, TUNING_PREVIEW_OUTCOMES_BLOCK),
      ];
  }
}

function contextWithId(text: string, blockId: string): KnownBlock {
  return { ...context(text), block_id: blockId };
}

function plain(text: string, max: number): types.PlainTextElement {
  return { type: "plain_text", text: truncate(text, max), emoji: true };
}

function numberInput(p: {
  blockId: string;
  actionId: string;
  label: string;
  hint: string;
  value: string;
  min?: number;
  max?: number;
}): KnownBlock {
  const element: types.NumberInput = {
    type: "number_input",
    action_id: p.actionId,
    is_decimal_allowed: true,
    dispatch_action_config: { trigger_actions_on: ["on_enter_pressed"] },
  };
  // Slack refuses an initial value outside min/max, and a value it cannot read as a number.
  if (p.value.trim() !== "") element.initial_value = p.value.trim();
  if (p.min !== undefined) element.min_value = String(p.min);
  if (p.max !== undefined) element.max_value = String(p.max);
  return {
    type: "input",
    block_id: p.blockId,
    dispatch_action: true,
    label: plain(p.label, MAX_LABEL),
    hint: plain(p.hint, MAX_LABEL),
    element,
  };
}

function noteInput(note: string | undefined): KnownBlock {
  const element: types.PlainTextInput = {
    type: "plain_text_input",
    action_id: TUNING_NOTE_ACTION,
    multiline: true,
    max_length: MAX_REASON,
    placeholder: plain("What should the approver know? e.g. too many MQLs go nowhere", 150),
  };
  if (note) element.initial_value = truncate(note, MAX_REASON);
  return {
    type: "input",
    block_id: TUNING_NOTE_BLOCK,
    optional: true,
    label: plain("Why this change", MAX_LABEL),
    element,
  };
}

interface ModelRef {
  version: number;
  name: string;
}

function intro(m: ModelRef, what: string): KnownBlock {
  return section(
    `${what} of *${escapeMrkdwn(truncate(m.name, 80))}* (v${m.version}). Your change becomes a proposal; it takes effect once a manager other than you approves it.`,
  );
}

function modal(p: {
  callbackId: string;
  title: string;
  metadata: string;
  blocks: KnownBlock[];
}): ModalView {
  if (p.metadata.length > 3000)
    throw new Error("tuning modal metadata is over Slack's 3000 characters");
  return {
    type: "modal",
    callback_id: p.callbackId,
    private_metadata: p.metadata,
    title: plain(p.title, MAX_TITLE),
    submit: plain("Propose change", MAX_TITLE),
    close: plain("Cancel", MAX_TITLE),
    // Built within the limit by construction; the slice is the last guard.
    blocks: p.blocks.slice(0, MAX_VIEW_BLOCKS),
  };
}

export interface ThresholdsModalInput {
  model: ModelRef;
  current: ScoringModel["thresholds"];
  /** Field texts as the person left them (after an edit); missing ones show the current value. */
  values?: Partial<Record<"mql" | "sql" | "hysteresis", string>> | undefined;
  note?: string | undefined;
  preview: PreviewState;
  /** private_metadata (see encodeTuningMetadata). */
  metadata: string;
}

export function buildThresholdsModal(p: ThresholdsModalInput): ModalView {
  const v = p.values ?? {};
  const value = (k: "mql" | "sql" | "hysteresis") => v[k] ?? String(p.current[k]);
  return modal({
    callbackId: TUNING_THRESHOLDS_MODAL,
    title: "Tune thresholds",
    metadata: p.metadata,
    blocks: [
      intro(p.model, "Stage thresholds"),
      numberInput({
        blockId: TUNING_MQL_BLOCK,
        actionId: TUNING_MQL_ACTION,
        label: "MQL threshold",
        hint: `Score at which a lead becomes marketing-qualified. Now ${num(p.current.mql)}.`,
        value: value("mql"),
      }),
      numberInput({
        blockId: TUNING_SQL_BLOCK,
        actionId: TUNING_SQL_ACTION,
        label: "SQL threshold",
        hint: `Score at which a lead becomes sales-qualified; above the MQL threshold. Now ${num(p.current.sql)}.`,
        value: value("sql"),
      }),
      numberInput({
        blockId: TUNING_HYSTERESIS_BLOCK,
        actionId: TUNING_HYSTERESIS_ACTION,
        label: "Hysteresis",
        hint: `How far below a threshold a lead must fall before it drops back a stage; 0 or more. Now ${num(p.current.hysteresis)}.`,
        value: value("hysteresis"),
        min: 0,
      }),
      noteInput(p.note),
      divider,
      ...buildPreviewBlocks(p.preview),
    ],
  });
}

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

/** A proposal as the messages show it. */
export interface ProposalView {
  id: number;
  kind: "thresholds" | "weights" | "model";
  proposedBy: string;
  baseVersion: number;
  changes: string[];
  impact: Impact | null;
  note: string | null;
  createdAt: Date;
}

export interface ProposalDecision {
  status: "approved" | "rejected";
  by: string;
  at: Date;
  /** The version the approval activated. */
  version?: number | undefined;
  reason?: string | null | undefined;
}

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

const KIND_LABEL: Record<ProposalView["kind"], string> = {
  thresholds: "thresholds",
  weights: "rule points",
  model: "scoring model",
};

function proposalBody(p: ProposalView): KnownBlock[] {
  const lines = [
    `${mention(p.proposedBy)} proposes a change to the ${KIND_LABEL[p.kind]} (based on model v${p.baseVersion}).`,
  ];
  if (p.note) lines.push(`> ${escapeMrkdwn(truncate(p.note, MAX_REASON)).replace(/\n/g, "\n> ")}`);
  const blocks: KnownBlock[] = [
    header(`Model change #${p.id}: ${KIND_LABEL[p.kind]}`, PROPOSAL_HEADER_BLOCK),
    section(lines.join("\n")),
    ...diffSections(p.changes),
  ];
  if (p.impact) {
    blocks.push({
      type: "section",
      block_id: PROPOSAL_IMPACT_BLOCK,
      text: { type: "mrkdwn", text: truncate(`*Impact*\n${impactSummary(p.impact)}`, MAX_TEXT) },
      fields: impactFields(p.impact),
    });
    blocks.push(contextWithId(outcomesLine(p.impact), PROPOSAL_OUTCOMES_BLOCK));
  }
  return blocks;
}

/** The diff as sections of whole lines; the first carries the block id the tests and updates use. */
function diffSections(changes: readonly string[]): KnownBlock[] {
  const lines =
    changes.length > 0 ? changes.map((c) => `• ${escapeMrkdwn(c)}`) : ["• (no change recorded)"];
  const texts: string[] = [];
  let cur = "*Changes*";
  for (const line of lines) {
    const l = truncate(line, 500);
    if (cur.length + 1 + l.length > MAX_TEXT) {
      texts.push(cur);
      cur = l;
    } else cur = `${cur}\n${l}`;
  }
  texts.push(cur);
  if (texts.length > MAX_DIFF_BLOCKS) {
    const kept = texts.slice(0, MAX_DIFF_BLOCKS - 1);
    const shown = kept.reduce((n, t) => n + t.split("\n").length, 0) - 1;
    const rest = changes.length - shown;
    return [
      ...kept.map((t, i) => section(t, i === 0 ? PROPOSAL_DIFF_BLOCK : undefined)),
      context(`…and ${rest} more changes.`),
    ];
  }
  return texts.map((t, i) => section(t, i === 0 ? PROPOSAL_DIFF_BLOCK : undefined));
}

function fallback(p: ProposalView, suffix: string): string {
  const first = p.changes.slice(0, 3).join("; ");
  const more = p.changes.length > 3 ? ` and ${p.changes.length - 3} more` : "";
  return truncate(`Model change #${p.id} by ${p.proposedBy}: ${first}${more}${suffix}`, MAX_TEXT);
}

function button(
  actionId: string,
  text: string,
  value: string,
  style: "primary" | "danger",
): types.Button {
  return { type: "button", action_id: actionId, text: plain(text, 75), value, style };
}

/** The proposal as managers first see it: diff, impact, Approve and Reject. */
export function buildProposalMessage(p: ProposalView): SlackMessage {
  const value = String(p.id);
  const actions: KnownBlock = {
    type: "actions",
    block_id: PROPOSAL_ACTIONS_BLOCK,
    elements: [
      button(PROPOSAL_APPROVE, "Approve", value, "primary"),
      button(PROPOSAL_REJECT, "Reject", value, "danger"),
    ],
  };
  return {
    text: fallback(p, " (waiting for approval)"),
    blocks: [
      ...proposalBody(p),
      actions,
      context("Managers approve or reject; the proposer cannot decide on their own change."),
    ].slice(0, MAX_BLOCKS),
  };
}

/** The proposer's copy: the same proposal, who it went to, and no buttons. */
export function buildProposalSubmitted(p: ProposalView, managers: readonly string[]): SlackMessage {
  const to =
    managers.length > 0
      ? `Sent for approval to ${managers.slice(0, 20).map(mention).join(", ")}${managers.length > 20 ? ` and ${managers.length - 20} more` : ""}.`
      : "No manager is set up to approve it yet: an admin can make someone a manager with /lead role @user manager.";
  return {
    text: fallback(p, " (proposed)"),
    blocks: [
      ...proposalBody(p),
      section(`:hourglass_flowing_sand: Waiting for a manager. ${to}`, PROPOSAL_STATUS_BLOCK),
    ].slice(0, MAX_BLOCKS),
  };
}

/** The proposal after the decision: buttons replaced by who decided, when, and why. */
export function buildProposalDecided(p: ProposalView, d: ProposalDecision): SlackMessage {
  const who = `${mention(d.by)} ${slackDate(d.at)}`;
  const status =
    d.status === "approved"
      ? `:white_check_mark: *Approved* by ${who}${d.version !== undefined ? `: model v${d.version} is active.` : "."}`
      : `:no_entry: *Rejected* by ${who}.${d.reason ? `\nReason: ${escapeMrkdwn(truncate(d.reason, MAX_REASON))}` : ""}`;
  return {
    text: fallback(p, ` (${d.status} by ${d.by})`),
    blocks: [...proposalBody(p), section(status, PROPOSAL_STATUS_BLOCK)].slice(0, MAX_BLOCKS),
  };
}

export interface ModelActivated {
  version: number;
  proposal: ProposalView;
  approvedBy: string;
  rescore?: { scored: number; changed: number; transitions: number } | undefined;
}

/** The alert-channel announcement of an approved change. */
export function buildModelActivated(a: ModelActivated): SlackMessage {
  const p = a.proposal;
  const rescore = a.rescore
    ? `Rescored ${count(a.rescore.scored, "lead")}: ${count(a.rescore.changed, "score")} changed, ${count(a.rescore.transitions, "stage change")}.`
    : "Leads are being rescored.";
  return {
    text: truncate(
      `Scoring model v${a.version} is active: ${a.approvedBy} approved change #${p.id} by ${p.proposedBy}. ${p.changes.join("; ")}`,
      MAX_TEXT,
    ),
    blocks: [
      header(`Scoring model v${a.version} is active`),
      section(
        `${mention(a.approvedBy)} approved change #${p.id} to the ${KIND_LABEL[p.kind]}, proposed by ${mention(p.proposedBy)}.`,
      ),
      ...diffSections(p.changes),
      section(rescore, PROPOSAL_STATUS_BLOCK),
    ].slice(0, MAX_BLOCKS),
  };
}

/** What the reject modal carries to its submission: the proposal and the message clicked. */
export const decisionMetaSchema = z.object({
  proposalId: z.number().int().positive(),
  channel: z.string().optional(),
  ts: z.string().optional(),
});
export type DecisionMeta = z.infer<typeof decisionMetaSchema>;

/** Asks for the reason of a rejection; the reason goes on the proposal and to the proposer. */
export function buildRejectModal(p: ProposalView, meta: DecisionMeta): ModalView {
  const metadata: DecisionMeta = { proposalId: meta.proposalId };
  if (meta.channel) metadata.channel = meta.channel;
  if (meta.ts) metadata.ts = meta.ts;
  return {
    type: "modal",
    callback_id: PROPOSAL_DECISION_MODAL,
    private_metadata: JSON.stringify(metadata),
    title: plain("Reject change", MAX_TITLE),
    submit: plain("Reject", MAX_TITLE),
    close: plain("Cancel", MAX_TITLE),
    blocks: [
      section(`Reject change #${p.id} by ${mention(p.proposedBy)}?`),
      ...diffSections(p.changes).slice(0, 3),
      {
        type: "input",
        block_id: PROPOSAL_REASON_BLOCK,
        optional: true,
        label: plain("Reason (shown to the proposer)", MAX_LABEL),
        element: {
          type: "plain_text_input",
          action_id: PROPOSAL_REASON_ACTION,
          multiline: true,
          max_length: MAX_REASON,
        },
      },
    ],
  };
}

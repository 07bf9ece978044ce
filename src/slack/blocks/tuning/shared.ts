import type { types } from "@slack/bolt";
import type { Stage } from "../../../core/model.js";
import { TUNING_NOTE_ACTION, TUNING_NOTE_BLOCK } from "../../ids.js";
import {
  context,
  escapeMrkdwn,
  type KnownBlock,
  MAX_TITLE,
  MAX_VIEW_BLOCKS,
  section,
  truncate,
} from "../common.js";

/** What the tuning surfaces share: Slack limits they build within, wording helpers and inputs. */

export type ModalView = types.ModalView;

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

export function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export function count(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

export function stageCounts(c: Record<Stage, number>): string {
  return (["lead", "mql", "sql"] as const)
    .map((s) => `${STAGE_LABEL[s]} ${c[s].toLocaleString("en-US")}`)
    .join(" · ");
}

export function bullets(lines: readonly string[]): string {
  return lines.map((l) => `• ${escapeMrkdwn(l)}`).join("\n");
}

export function contextWithId(text: string, blockId: string): KnownBlock {
  return { ...context(text), block_id: blockId };
}

export function plain(text: string, max: number): types.PlainTextElement {
  return { type: "plain_text", text: truncate(text, max), emoji: true };
}

export function numberInput(p: {
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

export function noteInput(note: string | undefined): KnownBlock {
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

export interface ModelRef {
  version: number;
  name: string;
}

export function intro(m: ModelRef, what: string): KnownBlock {
  return section(
    `${what} of *${escapeMrkdwn(truncate(m.name, 80))}* (v${m.version}). Your change becomes a proposal; it takes effect once a manager other than you approves it.`,
  );
}

export function modal(p: {
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

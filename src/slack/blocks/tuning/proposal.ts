import type { types } from "@slack/bolt";
import type { Impact } from "../../../core/impact.js";
import { DEFAULT_MODEL_KEY } from "../../../core/model.js";
import type { Learned } from "../../../services/index.js";
import {
  PROPOSAL_ACTIONS_BLOCK,
  PROPOSAL_DIFF_BLOCK,
  PROPOSAL_HEADER_BLOCK,
  PROPOSAL_IMPACT_BLOCK,
  PROPOSAL_OUTCOMES_BLOCK,
  PROPOSAL_REJECT,
  PROPOSAL_REVIEW,
  PROPOSAL_STATUS_BLOCK,
  PROPOSAL_WARNING_BLOCK,
} from "../../ids.js";
import {
  context,
  escapeMrkdwn,
  header,
  type KnownBlock,
  MAX_BLOCKS,
  MAX_TEXT,
  mention,
  section,
  slackDate,
  truncate,
} from "../common.js";
import { learnedBlocks } from "./learned.js";
import { impactFields, impactSummary, outcomesLine } from "./preview.js";
import { contextWithId, MAX_DIFF_BLOCKS, MAX_REASON, plain } from "./shared.js";

/** The proposal message: as managers first see it, as the proposer sees it, and once decided. */

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
  /** The model the proposal changes (or creates); absent or `default` for the default model. */
  modelKey?: string | undefined;
  /** A learned proposal's backtest and evidence. */
  learned?: Learned | undefined;
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

export const KIND_LABEL: Record<ProposalView["kind"], string> = {
  thresholds: "thresholds",
  weights: "rule points",
  model: "scoring model",
};

function proposalBody(p: ProposalView): KnownBlock[] {
  const key = p.modelKey && p.modelKey !== DEFAULT_MODEL_KEY ? escapeMrkdwn(p.modelKey) : undefined;
  const base =
    key === undefined
      ? `based on model v${p.baseVersion}`
      : p.baseVersion === 0
        ? `a new model *${key}*`
        : `model *${key}*, based on v${p.baseVersion}`;
  const lines = [
    `${mention(p.proposedBy)} proposes a change to the ${KIND_LABEL[p.kind]} (${base}).`,
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
  if (p.learned) blocks.push(...learnedBlocks(p.learned));
  return blocks;
}
/** The diff as sections of whole lines; the first carries the block id the tests and updates use. */
export function diffSections(
  changes: readonly string[],
  maxBlocks: number = MAX_DIFF_BLOCKS,
): KnownBlock[] {
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
  if (texts.length > maxBlocks) {
    const kept = texts.slice(0, maxBlocks - 1);
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
  const first = p.changes.slice(0, 3).map(escapeMrkdwn).join("; ");
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

/** True when the change moves more than half of all scored leads: the approver is told in bold. */
export function movesMostLeads(impact: Impact | null): boolean {
  return impact !== null && impact.leads > 0 && (impact.up + impact.down) * 2 > impact.leads;
}

/** The bold warning over the decision, when the change moves more than half of all leads. */
export function warningBlocks(impact: Impact | null): KnownBlock[] {
  if (!impact || !movesMostLeads(impact)) return [];
  const moved = impact.up + impact.down;
  return [
    section(
      `:warning: *This change moves more than half of all leads: ${moved.toLocaleString("en-US")} of ${impact.leads.toLocaleString("en-US")} change stage.*`,
      PROPOSAL_WARNING_BLOCK,
    ),
  ];
}

/**
 * The proposal as managers first see it: diff, impact, Review (a modal with the whole diff and
 * the backtest, whose submit approves) and Reject.
 */
export function buildProposalMessage(p: ProposalView): SlackMessage {
  const value = String(p.id);
  const actions: KnownBlock = {
    type: "actions",
    block_id: PROPOSAL_ACTIONS_BLOCK,
    elements: [
      button(PROPOSAL_REVIEW, "Review", value, "primary"),
      button(PROPOSAL_REJECT, "Reject", value, "danger"),
    ],
  };
  const tail = [
    ...warningBlocks(p.impact),
    actions,
    context(
      "Managers review and approve, or reject; the proposer cannot decide on their own change.",
    ),
  ];
  // The decision blocks always fit: the body gives way to them.
  return {
    text: fallback(p, " (waiting for approval)"),
    blocks: [...proposalBody(p).slice(0, MAX_BLOCKS - tail.length), ...tail],
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
      ? `:white_check_mark: *Approved* by ${who}${d.version !== undefined ? `: model v${d.version} is active.` : "."}${d.reason ? `\nComment: ${escapeMrkdwn(truncate(d.reason, MAX_REASON))}` : ""}`
      : `:no_entry: *Rejected* by ${who}.${d.reason ? `\nReason: ${escapeMrkdwn(truncate(d.reason, MAX_REASON))}` : ""}`;
  return {
    text: fallback(p, ` (${d.status} by ${d.by})`),
    blocks: [...proposalBody(p), section(status, PROPOSAL_STATUS_BLOCK)].slice(0, MAX_BLOCKS),
  };
}

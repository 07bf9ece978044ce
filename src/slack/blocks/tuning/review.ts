import { z } from "zod";
import {
  PROPOSAL_COMMENT_ACTION,
  PROPOSAL_COMMENT_BLOCK,
  PROPOSAL_IMPACT_BLOCK,
  PROPOSAL_OUTCOMES_BLOCK,
  PROPOSAL_REVIEW_MODAL,
} from "../../ids.js";
import {
  context,
  escapeMrkdwn,
  type KnownBlock,
  MAX_TEXT,
  MAX_TITLE,
  MAX_VIEW_BLOCKS,
  mention,
  section,
  slackDate,
  truncate,
} from "../common.js";
import { impactFields, impactSummary, outcomesLine } from "./preview.js";
import { diffSections, KIND_LABEL, type ProposalView, warningBlocks } from "./proposal.js";
import { contextWithId, MAX_LABEL, MAX_REASON, type ModalView, plain } from "./shared.js";

/** The review modal: the whole diff, the impact and the backtest; its submit approves. */

/** What the review modal carries to its submission: the proposal and the message it came from. */
export const reviewMetaSchema = z.object({
  proposalId: z.number().int().positive(),
  channel: z.string().optional(),
  ts: z.string().optional(),
});
export type ReviewMeta = z.infer<typeof reviewMetaSchema>;

/** Diff sections a review modal shows: the whole diff of any sane change, within 100 blocks. */
const REVIEW_DIFF_BLOCKS = 40;

export function buildReviewModal(p: ProposalView, meta: ReviewMeta): ModalView {
  const metadata: ReviewMeta = { proposalId: meta.proposalId };
  if (meta.channel) metadata.channel = meta.channel;
  if (meta.ts) metadata.ts = meta.ts;
  const intro = [
    `*Change #${p.id}* to the ${KIND_LABEL[p.kind]}, proposed by ${mention(p.proposedBy)} ${slackDate(p.createdAt)} on model v${p.baseVersion}.`,
  ];
  if (p.note) intro.push(`> ${escapeMrkdwn(truncate(p.note, MAX_REASON)).replace(/\n/g, "\n> ")}`);
  const blocks: KnownBlock[] = [section(intro.join("\n"))];
  blocks.push(...diffSections(p.changes, REVIEW_DIFF_BLOCKS));
  if (p.impact) {
    blocks.push({
      type: "section",
      block_id: PROPOSAL_IMPACT_BLOCK,
      text: { type: "mrkdwn", text: truncate(`*Impact*\n${impactSummary(p.impact)}`, MAX_TEXT) },
      fields: impactFields(p.impact),
    });
    blocks.push(section(`*Backtest*\n${outcomesLine(p.impact)}`, PROPOSAL_OUTCOMES_BLOCK));
  } else {
    blocks.push(contextWithId("No impact was measured for this change.", PROPOSAL_OUTCOMES_BLOCK));
  }
  const tail: KnownBlock[] = [
    {
      type: "input",
      block_id: PROPOSAL_COMMENT_BLOCK,
      optional: true,
      label: plain("Comment (optional)", MAX_LABEL),
      hint: plain("Kept in the audit log and shown with the announcement.", MAX_LABEL),
      element: {
        type: "plain_text_input",
        action_id: PROPOSAL_COMMENT_ACTION,
        multiline: true,
        max_length: MAX_REASON,
      },
    },
    ...warningBlocks(p.impact),
    context("Approve makes this the active model and rescores every lead at once."),
  ];
  return {
    type: "modal",
    callback_id: PROPOSAL_REVIEW_MODAL,
    private_metadata: JSON.stringify(metadata),
    title: plain(`Review change #${p.id}`, MAX_TITLE),
    submit: plain("Approve", MAX_TITLE),
    close: plain("Cancel", MAX_TITLE),
    // The diff gives way so the comment and the warning always fit.
    blocks: [...blocks.slice(0, MAX_VIEW_BLOCKS - tail.length), ...tail],
  };
}

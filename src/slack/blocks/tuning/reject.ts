import { z } from "zod";
import {
  PROPOSAL_DECISION_MODAL,
  PROPOSAL_REASON_ACTION,
  PROPOSAL_REASON_BLOCK,
} from "../../ids.js";
import { MAX_TITLE, mention, section } from "../common.js";
import { diffSections, type ProposalView } from "./proposal.js";
import { MAX_LABEL, MAX_REASON, type ModalView, plain } from "./shared.js";

/** The reject modal: asks a manager why, for the proposal and the proposer. */

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

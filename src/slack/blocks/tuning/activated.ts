import { PROPOSAL_STATUS_BLOCK } from "../../ids.js";
import {
  escapeMrkdwn,
  header,
  MAX_BLOCKS,
  MAX_TEXT,
  mention,
  section,
  truncate,
} from "../common.js";
import { diffSections, KIND_LABEL, type ProposalView, type SlackMessage } from "./proposal.js";
import { count, MAX_REASON } from "./shared.js";

/** The alert-channel announcement that an approved change made a new model version active. */

export interface ModelActivated {
  version: number;
  proposal: ProposalView;
  approvedBy: string;
  rescore?: { scored: number; changed: number; transitions: number } | undefined;
  /** The approver's comment from the review modal. */
  comment?: string | null | undefined;
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
        `${mention(a.approvedBy)} approved change #${p.id} to the ${KIND_LABEL[p.kind]}, proposed by ${mention(p.proposedBy)}.${a.comment ? `\n> ${escapeMrkdwn(truncate(a.comment, MAX_REASON)).replace(/\n/g, "\n> ")}` : ""}`,
      ),
      ...diffSections(p.changes),
      section(rescore, PROPOSAL_STATUS_BLOCK),
    ].slice(0, MAX_BLOCKS),
  };
}

import type { types } from "@slack/bolt";
import type { Impact, OutcomeAgreement } from "../../../core/impact.js";
import { MIN_OUTCOMES_FOR_BACKTEST } from "../../../core/impact.js";
import {
  TUNING_PREVIEW_BLOCK,
  TUNING_PREVIEW_DETAIL_BLOCK,
  TUNING_PREVIEW_OUTCOMES_BLOCK,
} from "../../ids.js";
import { escapeMrkdwn, type KnownBlock, MAX_TEXT, section, truncate } from "../common.js";
import { bullets, contextWithId, count, pct, STAGE_LABEL, stageCounts } from "./shared.js";

/** The impact preview at the foot of a tuning modal, and the impact lines proposals reuse. */

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

export function impactFields(impact: Impact): types.SectionBlock["fields"] {
  return [
    { type: "mrkdwn", text: `*Now*\n${stageCounts(impact.before)}` },
    { type: "mrkdwn", text: `*After*\n${stageCounts(impact.after)}` },
  ];
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

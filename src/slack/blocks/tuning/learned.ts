import type { Learned } from "../../../services/index.js";
import { PROPOSAL_BACKTEST_BLOCK, PROPOSAL_EVIDENCE_BLOCK } from "../../ids.js";
import { context, escapeMrkdwn, type KnownBlock, MAX_TEXT, signed, truncate } from "../common.js";

/** What a learned proposal shows beside its diff: the held-out backtest and its strongest rules. */

/** Rules listed with their evidence; the full list is in the diff. */
export const MAX_EVIDENCE_RULES = 8;

const auc = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));
const pct = (x: number | null) => (x === null ? "n/a" : `${Math.round(x * 100)}%`);

function field(title: string, suggested: string, current: string) {
  return { type: "mrkdwn" as const, text: `*${title}*\n${suggested} suggested · ${current} now` };
}

/** The backtest (suggested vs current, side by side) and the top rules with their evidence. */
export function learnedBlocks(learned: Learned): KnownBlock[] {
  const { backtest: b, evidence, need, fit } = learned;
  const rules = evidence.slice(0, MAX_EVIDENCE_RULES).map((e) => {
    const conv =
      e.conversionWith === null
        ? ""
        : ` — won ${pct(e.conversionWith)} with, ${pct(e.conversionWithout)} without (${e.support} outcomes)`;
    return `• ${escapeMrkdwn(truncate(e.label, 80))}: *${signed(e.points)}*${conv}`;
  });
  const more =
    evidence.length > MAX_EVIDENCE_RULES
      ? ` (top ${MAX_EVIDENCE_RULES} of ${evidence.length})`
      : "";
  return [
    {
      type: "section",
      block_id: PROPOSAL_BACKTEST_BLOCK,
      text: {
        type: "mrkdwn",
        text: `*Backtest* on ${b.heldOut.won} won and ${b.heldOut.notWon} lost or not a fit held out from the fit`,
      },
      fields: [
        field("ROC AUC", auc(b.suggested.auc), auc(b.current.auc)),
        field("MQL threshold", String(b.suggested.mqlThreshold), String(b.current.mqlThreshold)),
        field("Precision at MQL", pct(b.suggested.precision), pct(b.current.precision)),
        field("Recall at MQL", pct(b.suggested.recall), pct(b.current.recall)),
      ],
    },
    {
      type: "section",
      block_id: PROPOSAL_EVIDENCE_BLOCK,
      text: {
        type: "mrkdwn",
        text: truncate(`*Strongest rules*${more}\n${rules.join("\n")}`, MAX_TEXT),
      },
    },
    context(
      truncate(
        `${escapeMrkdwn(need.message)} Points: ${fit.pointsPerLogOdds.toFixed(1)} per unit of log-odds; MQL and SQL keep the share of leads that reach them today.`,
        MAX_TEXT,
      ),
    ),
  ];
}

import type { Services } from "../services/index.js";

/** Default author of a suggestion made from the command line. */
export const CLI_ACTOR = "cli";

const auc = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));
const pct = (x: number | null) => (x === null ? "n/a" : `${Math.round(x * 100)}%`);

/**
 * `leadbot model suggest [--dry-run]`: fits a model from the outcomes and proposes it (or only
 * prints it); the lines it prints, and whether the data sufficed.
 */
export async function suggestLines(
  s: Services,
  opts: { dryRun: boolean; by: string },
): Promise<{ ok: boolean; lines: string[] }> {
  const r = await s.suggestions.suggest({ by: opts.by, dryRun: opts.dryRun });
  if (!r.ok) return { ok: false, lines: [r.message] };
  const { backtest: b, evidence, fit } = r.learned;
  const lines = [
    r.proposal
      ? `proposal #${r.proposal.id} by ${r.proposal.proposedBy}: waiting for a manager's approval in Slack`
      : "dry run: nothing proposed",
    `learned from ${fit.trainingOutcomes} outcomes; ${fit.candidates} candidate rules, ${evidence.length} kept`,
    `backtest on ${b.heldOut.won} won and ${b.heldOut.notWon} lost or not a fit held out:`,
    "                    suggested  current",
    `  ROC AUC           ${auc(b.suggested.auc).padEnd(9)}  ${auc(b.current.auc)}`,
    `  MQL threshold     ${String(b.suggested.mqlThreshold).padEnd(9)}  ${b.current.mqlThreshold}`,
    `  precision at MQL  ${pct(b.suggested.precision).padEnd(9)}  ${pct(b.current.precision)}`,
    `  recall at MQL     ${pct(b.suggested.recall).padEnd(9)}  ${pct(b.current.recall)}`,
    "rules, strongest first:",
    ...evidence.map(
      (e) =>
        `  ${String(e.points > 0 ? `+${e.points}` : e.points).padStart(5)}  ${e.label}  (${e.support} outcomes, won ${pct(e.conversionWith)} with, ${pct(e.conversionWithout)} without)`,
    ),
  ];
  return { ok: true, lines };
}

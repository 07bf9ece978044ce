import type { StatsReport } from "../services/stats.js";

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);

/** The outcome metrics as terminal lines: headline, bands, funnel, reasons. */
export function statsLines(r: StatsReport): string[] {
  const lines: string[] = [];
  const since = r.period.since ? ` (since ${r.period.since.toISOString().slice(0, 10)})` : "";
  lines.push(`period ${r.period.name}${since}: ${r.leads} leads`);
  lines.push(
    `outcomes: ${r.outcomes.won} won, ${r.outcomes.lost} lost, ${r.outcomes.notAFit} not a fit`,
  );
  if (r.auc) {
    const ci =
      r.auc.low === null || r.auc.high === null
        ? ""
        : ` (95% CI ${r.auc.low.toFixed(2)}–${r.auc.high.toFixed(2)})`;
    lines.push(`ROC AUC of the score: ${r.auc.value.toFixed(3)}${ci}`);
  } else lines.push("ROC AUC of the score: needs at least one won and one not-won outcome");
  if (r.topDecileLift !== null) lines.push(`top-decile lift: ${r.topDecileLift.toFixed(2)}x`);
  if (r.bands.length > 0) {
    lines.push("conversion by score band (1 = top decile):");
    for (const b of r.bands) {
      lines.push(
        `  band ${String(b.band).padStart(2)}  ${b.minScore.toFixed(0).padStart(4)}–${b.maxScore.toFixed(0).padEnd(4)}  ${b.won}/${b.leads} won  ${pct(b.conversion)}`,
      );
    }
  }
  lines.push(
    `funnel: ${r.funnel.map((f) => `${f.stage} ${f.count}${f.rate === null ? "" : ` (${pct(f.rate)})`}`).join(" → ")}`,
  );
  if (r.medianDaysMqlToWon !== null)
    lines.push(`median days MQL → won: ${r.medianDaysMqlToWon.toFixed(1)}`);
  if (r.lostReasons.length > 0)
    lines.push(`lost reasons: ${r.lostReasons.map((l) => `${l.reason} ${l.count}`).join(", ")}`);
  lines.push(`MQLs waiting for an outcome: ${r.awaitingOutcome}`);
  return lines;
}

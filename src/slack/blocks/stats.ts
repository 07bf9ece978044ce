import type { ScoreBand as ChartBand, ScoreDistributions } from "../../charts/index.js";
import type { StatsReport } from "../../services/stats.js";
import {
  context,
  type EphemeralMessage,
  ephemeral,
  escapeMrkdwn,
  header,
  type KnownBlock,
  lineSections,
  num,
} from "./common.js";

/** Lines of lost reasons shown; the rest are summed into one. */
const SHOWN_REASONS = 5;

const pct = (x: number | null) => (x === null ? "n/a" : `${Math.round(x * 1000) / 10}%`);

function periodLabel(r: StatsReport): string {
  return r.period.name === "all" ? "all time" : `last ${r.period.name.replace("d", " days")}`;
}

/** The AUC as a sentence a sales manager can read, with its interval when there is one. */
export function aucLine(r: Pick<StatsReport, "auc">): string {
  if (!r.auc) return "AUC needs at least one won and one lost or not-a-fit outcome.";
  const ci =
    r.auc.low === null || r.auc.high === null
      ? ""
      : ` (95% CI ${r.auc.low.toFixed(2)}–${r.auc.high.toFixed(2)})`;
  return `*ROC AUC ${r.auc.value.toFixed(2)}*${ci}: a won lead outscores a lost one ${Math.round(r.auc.value * 100)}% of the time (0.5 is a coin toss).`;
}

/** The top band's conversion, the App Home headline's second half. */
export function topBandLine(r: Pick<StatsReport, "bands" | "topDecileLift">): string | undefined {
  const top = r.bands.find((b) => b.band === 1);
  if (!top) return undefined;
  const lift = r.topDecileLift === null ? "" : ` (${r.topDecileLift.toFixed(1)}× the average)`;
  return `Top 10% of scores convert *${pct(top.conversion)}*${lift}`;
}

/** `/lead stats`: how well the score predicted outcomes in the period, in text. */
export function buildOutcomeStats(r: StatsReport, modelVersion: number): EphemeralMessage {
  const lines: string[] = [
    `*Outcomes, ${periodLabel(r)}*: won *${r.outcomes.won}* · lost *${r.outcomes.lost}* · not a fit *${r.outcomes.notAFit}*`,
    aucLine(r),
  ];
  const top = topBandLine(r);
  if (top) lines.push(top);
  if (r.bands.length > 0) {
    lines.push(
      `*Conversion by score band* (score at the time of the outcome)\n${r.bands
        .map(
          (b) =>
            `• band ${b.band}: ${num(b.minScore)}–${num(b.maxScore)} · ${b.won}/${b.leads} won · ${pct(b.conversion)}`,
        )
        .join("\n")}`,
    );
  }
  const cells = r.grades.filter((g) => g.leads > 0);
  if (cells.length > 0) {
    lines.push(
      `*By grade × level*: ${cells.map((g) => `${g.matrix} ${g.won}/${g.leads}`).join(" · ")}`,
    );
  }
  lines.push(
    `*Funnel*: ${r.funnel
      .map(
        (f) => `${f.stage.toUpperCase()} ${f.count}${f.rate === null ? "" : ` (${pct(f.rate)})`}`,
      )
      .join(" → ")}`,
  );
  if (r.medianDaysMqlToWon !== null)
    lines.push(`*Median MQL → won*: ${num(r.medianDaysMqlToWon)} days`);
  if (r.lostReasons.length > 0) {
    const shown = r.lostReasons.slice(0, SHOWN_REASONS);
    const rest = r.lostReasons.slice(SHOWN_REASONS).reduce((n, l) => n + l.count, 0);
    lines.push(
      `*Lost because*: ${shown.map((l) => `${escapeMrkdwn(l.reason.replace(/_/g, " "))} ${l.count}`).join(" · ")}${rest > 0 ? ` · other reasons ${rest}` : ""}`,
    );
  }
  lines.push(`*MQLs waiting for an outcome*: ${r.awaitingOutcome}`);
  const blocks: KnownBlock[] = [
    header("Lead stats"),
    ...lineSections(lines, 12, ""),
    context(`Scoring model v${modelVersion} · \`/lead stats 30d|90d|all\``),
  ];
  const auc = r.auc ? `AUC ${r.auc.value.toFixed(2)}` : "AUC n/a";
  return ephemeral(
    `Lead stats, ${periodLabel(r)}: ${auc}; won ${r.outcomes.won}, lost ${r.outcomes.lost}, not a fit ${r.outcomes.notAFit}`,
    blocks,
  );
}

/** The bands as the conversion chart draws them: low scores on the left. */
export function chartBands(r: StatsReport): ChartBand[] {
  return [...r.bands]
    .sort((a, b) => b.band - a.band)
    .map((b) => ({
      label: `${Math.round(b.minScore)}–${Math.round(b.maxScore)}`,
      leads: b.leads,
      won: b.won,
      rate: b.conversion,
    }));
}

export function chartDistributions(r: StatsReport): ScoreDistributions {
  return { won: r.scores.won, lost: r.scores.notWon };
}

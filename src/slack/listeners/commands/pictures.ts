import { charts as chartRenderers } from "../../../charts/lazy.js";
import type { LeadDetail } from "../../../services/leads.js";
import type { Period, StatsReport } from "../../../services/stats.js";
import { buildNotice, type EphemeralMessage } from "../../blocks/common.js";
import { buildLeadDetail } from "../../blocks/leads.js";
import { buildOutcomeStats, chartBands, chartDistributions } from "../../blocks/stats.js";
import type { WebClient } from "../../client.js";
import type { SlackDeps } from "../../deps.js";
import { uploadPng } from "../../files/upload.js";

/** A sparkline needs two points to be a line; one score is already in the text. */
const MIN_SPARK_POINTS = 2;

/** What a refused upload means for the person who asked, by Slack's error code. */
function uploadAdvice(error: string): string {
  if (error === "not_in_channel" || error === "channel_not_found")
    return "invite the app to this channel (`/invite @Leadbot`) to get the charts here";
  if (error === "missing_scope" || error === "not_allowed_token_type")
    return "the app needs the `files:write` scope: reinstall it from the updated manifest";
  return `Slack answered \`${error}\``;
}

/**
 * `/lead stats`: the text answer first (always), then the conversion-by-band and won/lost
 * distribution charts as PNG files in the channel the command came from. When Slack refuses the
 * upload, a short note says why; the numbers are already in the text.
 */
export async function answerStatsWithCharts(
  deps: SlackDeps,
  client: WebClient,
  p: { period: Period; channelId: string; respond: (m: EphemeralMessage) => Promise<unknown> },
): Promise<void> {
  const [report, model] = await Promise.all([
    deps.services.stats(p.period),
    deps.services.models.active(),
  ]);
  await p.respond(buildOutcomeStats(report, model.version));
  const refused = await postStatsCharts(client, p.channelId, report);
  if (refused) {
    deps.logger.warn({ error: refused, channel: p.channelId }, "stats charts were not uploaded");
    await p.respond(buildNotice(`The charts could not be posted: ${uploadAdvice(refused)}.`));
  }
}

/** Uploads both charts; the Slack error code of the first refusal, undefined when both went up. */
export async function postStatsCharts(
  client: WebClient,
  channelId: string,
  report: StatsReport,
): Promise<string | undefined> {
  const period = report.period.name;
  const { renderConversionByBand, renderScoreDistributions } = await chartRenderers();
  const charts = [
    {
      png: renderConversionByBand(chartBands(report), {
        title: `Conversion by score band (${period})`,
      }),
      filename: `leadbot-conversion-${period}.png`,
      title: `Conversion by score band, ${period}`,
      altText: "Bar chart of the share of leads won in each score band",
    },
    {
      png: renderScoreDistributions(chartDistributions(report), {
        title: `Scores of won and lost leads (${period})`,
      }),
      filename: `leadbot-scores-${period}.png`,
      title: `Scores of won and lost leads, ${period}`,
      altText: "Histograms of the scores of won and of lost leads at the time of their outcome",
    },
  ];
  for (const c of charts) {
    const r = await uploadPng(client, { ...c, channelId });
    if (!r.ok) return r.error;
  }
  return undefined;
}

/**
 * One lead with a sparkline of its score history: the PNG is uploaded unshared and shown by an
 * image block that names the file; when the upload is refused the detail comes without it. Slack
 * may also refuse the image block itself when the file is not processed yet (`invalid_blocks`):
 * the lead is then sent again without the picture rather than not at all.
 */
export async function respondShow(
  deps: SlackDeps,
  client: WebClient,
  send: (message: EphemeralMessage) => Promise<unknown>,
  lead: string,
): Promise<void> {
  const detail = await deps.services.leads.get(lead);
  const fileId = await uploadSparkline(deps, client, detail);
  if (fileId) {
    try {
      await send(buildLeadDetail(detail, { fileId }));
      return;
    } catch (err) {
      deps.logger.warn({ err, leadId: detail.id }, "the lead with its sparkline was refused");
    }
  }
  await send(buildLeadDetail(detail));
}

async function uploadSparkline(
  deps: SlackDeps,
  client: WebClient,
  d: LeadDetail,
): Promise<string | undefined> {
  const points = d.history.map((h) => ({ at: h.at.getTime(), score: h.score }));
  if (points.length < MIN_SPARK_POINTS) return undefined;
  const { renderSparkline } = await chartRenderers();
  const r = await uploadPng(client, {
    png: renderSparkline(points),
    filename: `leadbot-lead-${d.id}-score.png`,
    title: `Score history of lead #${d.id}`,
    altText: `Score history of lead #${d.id}, now ${Math.round(d.score)}`,
  });
  if (r.ok) return r.fileId;
  deps.logger.warn({ error: r.error, leadId: d.id }, "sparkline was not uploaded");
  return undefined;
}

import type { Digest, Reminder } from "../../services/digest.js";
import {
  ALERT_LOST,
  ALERT_NOT_A_FIT,
  ALERT_WON,
  DIGEST_BANDS_BLOCK,
  DIGEST_HEADER_BLOCK,
  encodeAlertAction,
  REMINDER_HEADER_BLOCK,
} from "../ids.js";
import type { SlackMessage } from "./alert.js";
import {
  context,
  escapeMrkdwn,
  header,
  type KnownBlock,
  MAX_BLOCKS,
  MAX_TEXT,
  mention,
  section,
  truncate,
} from "./common.js";

/** The weekly digest and the daily reminder, as Block Kit. Pure: plain data in, blocks out. */

const pct = (x: number) => `${Math.round(x * 100)}%`;
/** Width of the text bar of a band at 100% conversion. */
const BAR_WIDTH = 20;

/** Conversion by score band as text: what shows where the chart cannot be uploaded. */
export function bandsText(bands: Digest["bands"]): string {
  if (bands.length === 0) return "No outcomes recorded yet.";
  const rows = [...bands].reverse().map((b) => {
    const bar = "█".repeat(Math.round(Math.min(1, Math.max(0, b.rate)) * BAR_WIDTH));
    return `${b.label.padStart(9)} ${bar.padEnd(BAR_WIDTH)} ${pct(b.rate).padStart(4)} (${b.won}/${b.leads})`;
  });
  return `\`\`\`\n${rows.join("\n")}\n\`\`\``;
}

/**
 * The digest as Block Kit. With `chartUploaded`, the conversion-by-band chart was shared in the
 * channel just before this message, so the bands section points at it instead of drawing them.
 */
export function buildDigestMessage(
  d: Digest,
  opts: { chartUploaded?: boolean } = {},
): SlackMessage {
  const o = d.outcomes;
  const trend = d.aucTrend.map((p) => p.auc.toFixed(2)).join(" → ");
  const blocks: KnownBlock[] = [
    header(`Leadbot weekly digest, ${d.date}`, DIGEST_HEADER_BLOCK),
    {
      type: "section",
      fields: [
        { type: "mrkdwn", text: `*New MQLs*\n${d.newMqls}` },
        { type: "mrkdwn", text: `*New SQLs*\n${d.newSqls}` },
        {
          type: "mrkdwn",
          text: `*Outcomes this week*\n${o.won} won · ${o.lost} lost · ${o.notAFit} not a fit`,
        },
        {
          type: "mrkdwn",
          text: `*ROC AUC of the score*\n${d.auc ? `${d.auc.value.toFixed(3)}${d.auc.low !== null && d.auc.high !== null ? ` (95% ${d.auc.low.toFixed(2)}–${d.auc.high.toFixed(2)})` : ""}` : "not enough outcomes yet"}`,
        },
      ],
    },
    section(
      opts.chartUploaded
        ? "*Conversion by score band* (score when the outcome was recorded): in the chart just above."
        : truncate(
            `*Conversion by score band* (score when the outcome was recorded)\n${bandsText(d.bands)}`,
            MAX_TEXT,
          ),
      DIGEST_BANDS_BLOCK,
    ),
  ];
  if (trend) blocks.push(context(truncate(`AUC by week: ${trend}`, MAX_TEXT)));
  blocks.push(
    section(
      d.pending.length === 0
        ? "*Pending model changes*: none."
        : truncate(
            `*Pending model changes* (${d.pending.length})\n${d.pending
              .slice(0, 10)
              .map(
                (p) =>
                  `• #${p.id} ${escapeMrkdwn(p.kind)} by ${/^[UW][A-Z0-9]{2,}$/.test(p.proposedBy) ? mention(p.proposedBy) : escapeMrkdwn(p.proposedBy)}`,
              )
              .join("\n")}`,
            MAX_TEXT,
          ),
    ),
  );
  return {
    text: `Leadbot weekly digest ${d.date}: ${d.newMqls} new MQLs, ${d.newSqls} new SQLs, ${o.won} won, ${o.lost} lost, ${o.notAFit} not a fit.`,
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

/** Fixed blocks of a reminder besides one section and one button row per alert. */
const REMINDER_FIXED_BLOCKS = 3;

export function buildReminderMessage(r: Reminder): SlackMessage {
  const n = r.alerts.length + r.more;
  const blocks: KnownBlock[] = [
    header("Alerts waiting for an outcome", REMINDER_HEADER_BLOCK),
    section(
      `${n} of your alerts ${n === 1 ? "is" : "are"} more than ${r.days} days old without an outcome. How did ${n === 1 ? "it" : "they"} end?`,
    ),
  ];
  const room = Math.floor((MAX_BLOCKS - REMINDER_FIXED_BLOCKS) / 2);
  for (const a of r.alerts.slice(0, room)) {
    const value = encodeAlertAction({ alertId: a.alertId, leadId: a.leadId });
    blocks.push(
      section(
        truncate(
          `*${escapeMrkdwn(a.name)}*${a.company ? `, ${escapeMrkdwn(a.company)}` : ""} · ${a.stage.toUpperCase()}${a.score === null ? "" : ` · score ${Math.round(a.score)}`} · alerted ${a.days} days ago`,
          MAX_TEXT,
        ),
      ),
      {
        type: "actions",
        block_id: `reminder_${a.alertId}`,
        elements: [
          {
            type: "button",
            action_id: ALERT_WON,
            text: { type: "plain_text", text: "Won" },
            value,
            style: "primary",
          },
          {
            type: "button",
            action_id: ALERT_LOST,
            text: { type: "plain_text", text: "Lost" },
            value,
            style: "danger",
          },
          {
            type: "button",
            action_id: ALERT_NOT_A_FIT,
            text: { type: "plain_text", text: "Not a fit" },
            value,
          },
        ],
      },
    );
  }
  const hidden = n - Math.min(r.alerts.length, room);
  if (hidden > 0) blocks.push(context(`…and ${hidden} more: /lead top mine lists them.`));
  return {
    text: `${n} of your alerts ${n === 1 ? "is" : "are"} waiting for an outcome.`,
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

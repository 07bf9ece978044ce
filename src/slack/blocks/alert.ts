import type { types } from "@slack/bolt";
import { type BreakdownEntry, DEFAULT_MODEL_KEY, type Grade } from "../../core/model.js";
import {
  ALERT_ACTIONS_BLOCK,
  ALERT_CLAIM,
  ALERT_FIELDS_BLOCK,
  ALERT_HEADER_BLOCK,
  ALERT_LOST,
  ALERT_NOT_A_FIT,
  ALERT_REASONS_BLOCK,
  ALERT_ROUTED_BLOCK,
  ALERT_STATUS_BLOCK,
  ALERT_WON,
  encodeAlertAction,
} from "../ids.js";

type KnownBlock = types.KnownBlock;
type Button = types.Button;

/** Slack rejects a section or context text longer than this. */
export const MAX_TEXT = 3000;
/** Header blocks take plain text of at most 150 characters. */
export const MAX_HEADER = 150;
/** Each section field is limited to 2000 characters; ours are short, this is a guard. */
export const MAX_FIELD = 2000;
/** Slack's limit of blocks in one message. */
export const MAX_BLOCKS = 50;
/** A rep reads the first few reasons; the rest are one `/lead why` away. */
export const MAX_REASONS = 5;

export interface AlertView {
  alertId: number;
  leadId: number;
  stage: "mql" | "sql";
  name: string;
  email: string | null;
  title?: string | null | undefined;
  company?: string | null | undefined;
  score: number;
  fit: number;
  engagement: number;
  grade: Grade;
  matrix: string;
  /** Contributing rules, highest points first (the builder shows the first few). */
  reasons: BreakdownEntry[];
  /** Slack user id of the lead's owner. */
  owner?: string | null | undefined;
  /** The model (by key) that scored the lead; named when it is not the default model. */
  model?: string | undefined;
  /** The routing rule that gave the owner, when one did. */
  routedBy?: string | null | undefined;
}

export type AlertOutcome = "won" | "lost" | "not_a_fit";

export interface AlertResolution {
  outcome: AlertOutcome;
  /** Slack user id of who gave the outcome. */
  by: string;
  at: Date;
  reason?: string | null | undefined;
}

export interface SlackMessage {
  /** Notification and screen-reader text. */
  text: string;
  blocks: KnownBlock[];
}

const STAGE_LABEL: Record<AlertView["stage"], string> = { mql: "MQL", sql: "SQL" };
const OUTCOME_LABEL: Record<AlertOutcome, string> = {
  won: "Won",
  lost: "Lost",
  not_a_fit: "Not a fit",
};
const OUTCOME_EMOJI: Record<AlertOutcome, string> = {
  won: ":trophy:",
  lost: ":x:",
  not_a_fit: ":no_entry_sign:",
};

/** Cuts `s` to at most `max` characters, marking the cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

function mention(user: string): string {
  return SLACK_USER_ID.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}

function points(n: number): string {
  const r = Math.round(n * 10) / 10;
  return r > 0 ? `+${r}` : `${r}`;
}

function num(n: number): string {
  return `${Math.round(n * 10) / 10}`;
}

/** A date Slack shows in the reader's time zone, with a plain fallback. */
function slackDate(at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} at {time}|${at.toISOString()}>`;
}

function mrkdwnSection(blockId: string, text: string): KnownBlock {
  return {
    type: "section",
    block_id: blockId,
    text: { type: "mrkdwn", text: truncate(text, MAX_TEXT) },
  };
}

function headerBlock(a: AlertView): KnownBlock {
  const text = `New ${STAGE_LABEL[a.stage]}: ${a.name}`;
  return {
    type: "header",
    block_id: ALERT_HEADER_BLOCK,
    text: { type: "plain_text", text: truncate(text, MAX_HEADER), emoji: true },
  };
}

function summaryBlock(a: AlertView): KnownBlock {
  const who = [a.title, a.company].filter((s): s is string => Boolean(s)).map(escapeMrkdwn);
  const lines = [`*${escapeMrkdwn(a.name)}*${who.length > 0 ? ` · ${who.join(" at ")}` : ""}`];
  if (a.email) lines.push(escapeMrkdwn(a.email));
  const fields = [
    `*Score*\n${num(a.score)}`,
    `*Grade*\n${escapeMrkdwn(a.matrix)}`,
    `*Fit*\n${num(a.fit)}`,
    `*Engagement*\n${num(a.engagement)}`,
  ];
  if (a.owner) fields.push(`*Owner*\n${mention(a.owner)}`);
  if (a.model && a.model !== DEFAULT_MODEL_KEY) fields.push(`*Model*\n${escapeMrkdwn(a.model)}`);
  return {
    type: "section",
    block_id: ALERT_FIELDS_BLOCK,
    text: { type: "mrkdwn", text: truncate(lines.join("\n"), MAX_TEXT) },
    fields: fields.map((f) => ({ type: "mrkdwn", text: truncate(f, MAX_FIELD) })),
  };
}

function reasonsBlock(a: AlertView): KnownBlock | undefined {
  const top = [...a.reasons].sort((x, y) => y.points - x.points).slice(0, MAX_REASONS);
  if (top.length === 0) return undefined;
  const lines = top.map((r) => {
    const times = r.group === "engagement" && r.count > 1 ? ` ×${r.count}` : "";
    // Each line gets an equal share of the limit, so one long label cannot push the others out.
    return truncate(`• ${escapeMrkdwn(r.label)}${times}  *${points(r.points)}*`, 400);
  });
  return mrkdwnSection(ALERT_REASONS_BLOCK, `*Why*\n${lines.join("\n")}`);
}

function button(
  a: AlertView,
  actionId: string,
  text: string,
  style?: "primary" | "danger",
): Button {
  const b: Button = {
    type: "button",
    action_id: actionId,
    text: { type: "plain_text", text, emoji: true },
    value: encodeAlertAction({ alertId: a.alertId, leadId: a.leadId }),
  };
  if (style) b.style = style;
  return b;
}

function body(a: AlertView): KnownBlock[] {
  const blocks: KnownBlock[] = [headerBlock(a), summaryBlock(a)];
  const reasons = reasonsBlock(a);
  if (reasons) blocks.push(reasons);
  if (a.routedBy && a.owner) {
    blocks.push(
      mrkdwnSection(
        ALERT_ROUTED_BLOCK,
        `:arrow_right: Routed to ${mention(a.owner)} by rule *${escapeMrkdwn(a.routedBy)}*`,
      ),
    );
  }
  return blocks;
}

function fallbackText(a: AlertView, suffix = ""): string {
  // The top-level text feeds notifications and screen readers: Slack parses it like any mrkdwn.
  const email = a.email ? ` (${escapeMrkdwn(a.email)})` : "";
  return truncate(
    `New ${STAGE_LABEL[a.stage]}: ${escapeMrkdwn(a.name)}${email}, score ${num(a.score)}, ${escapeMrkdwn(a.matrix)}${suffix}`,
    MAX_TEXT,
  );
}

function limited(blocks: KnownBlock[]): KnownBlock[] {
  return blocks.slice(0, MAX_BLOCKS);
}

/** The alert as first posted: who the lead is, why it crossed, and the four buttons. */
export function buildAlertMessage(a: AlertView): SlackMessage {
  return {
    text: fallbackText(a),
    blocks: limited([
      ...body(a),
      {
        type: "actions",
        block_id: ALERT_ACTIONS_BLOCK,
        elements: [
          button(a, ALERT_WON, "Won", "primary"),
          button(a, ALERT_LOST, "Lost", "danger"),
          button(a, ALERT_NOT_A_FIT, "Not a fit"),
          button(a, ALERT_CLAIM, "Claim"),
        ],
      },
    ]),
  };
}

/** The alert after someone gave its outcome: buttons replaced by who said what, and when. */
export function buildAlertResolved(a: AlertView, r: AlertResolution): SlackMessage {
  const reason = r.reason ? `\nReason: ${escapeMrkdwn(r.reason)}` : "";
  const status = `${OUTCOME_EMOJI[r.outcome]} Marked *${OUTCOME_LABEL[r.outcome]}* by ${mention(r.by)} ${slackDate(r.at)}${reason}`;
  return {
    text: fallbackText(a, ` (marked ${OUTCOME_LABEL[r.outcome]})`),
    blocks: limited([...body(a), mrkdwnSection(ALERT_STATUS_BLOCK, status)]),
  };
}

/** The alert after someone claimed it: the outcome buttons stay, Claim gives way to the owner. */
export function buildAlertClaimed(a: AlertView, by: string): SlackMessage {
  return {
    text: fallbackText(a, " (claimed)"),
    blocks: limited([
      ...body(a),
      mrkdwnSection(ALERT_STATUS_BLOCK, `:raising_hand: Claimed by ${mention(by)}`),
      {
        type: "actions",
        block_id: ALERT_ACTIONS_BLOCK,
        elements: [
          button(a, ALERT_WON, "Won", "primary"),
          button(a, ALERT_LOST, "Lost", "danger"),
          button(a, ALERT_NOT_A_FIT, "Not a fit"),
        ],
      },
    ]),
  };
}

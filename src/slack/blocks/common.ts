import type { types } from "@slack/bolt";
import { escapeMrkdwn, MAX_BLOCKS, MAX_HEADER, MAX_TEXT, truncate } from "./alert.js";

export type KnownBlock = types.KnownBlock;
export { escapeMrkdwn, MAX_BLOCKS, MAX_TEXT, truncate };

/** Slack's limit of blocks in a modal or a home tab. */
export const MAX_VIEW_BLOCKS = 100;
/** Modal titles are plain text of at most 24 characters. */
export const MAX_TITLE = 24;
/** A button's value is at most 2000 characters. */
export const MAX_VALUE = 2000;

export interface EphemeralMessage {
  response_type: "ephemeral";
  /** Notification and fallback text. */
  text: string;
  blocks: KnownBlock[];
  replace_original?: boolean;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

export function mention(user: string | null | undefined): string {
  if (!user) return "nobody";
  return SLACK_USER_ID.test(user) ? `<@${user}>` : escapeMrkdwn(user);
}

export function num(n: number): string {
  return `${Math.round(n * 10) / 10}`;
}

export function signed(n: number): string {
  const r = Math.round(n * 10) / 10;
  return r > 0 ? `+${r}` : `${r}`;
}

/** A date Slack shows in the reader's time zone, with a plain fallback. */
export function slackDate(at: Date): string {
  const epoch = Math.floor(at.getTime() / 1000);
  return `<!date^${epoch}^{date_short_pretty} {time}|${at.toISOString().slice(0, 16).replace("T", " ")} UTC>`;
}

export function header(text: string, blockId?: string): KnownBlock {
  const b: KnownBlock = {
    type: "header",
    text: { type: "plain_text", text: truncate(text, MAX_HEADER), emoji: true },
  };
  if (blockId) b.block_id = blockId;
  return b;
}

export function section(text: string, blockId?: string): KnownBlock {
  const b: KnownBlock = {
    type: "section",
    text: { type: "mrkdwn", text: truncate(text, MAX_TEXT) },
  };
  if (blockId) b.block_id = blockId;
  return b;
}

export function context(text: string): KnownBlock {
  return { type: "context", elements: [{ type: "mrkdwn", text: truncate(text, MAX_TEXT) }] };
}

export const divider: KnownBlock = { type: "divider" };

/**
 * Joins lines into as few texts of at most `max` characters as it can, never splitting a line
 * (one longer than `max` is cut). A long list becomes several sections instead of being refused.
 */
export function packLines(lines: readonly string[], max = MAX_TEXT): string[] {
  const out: string[] = [];
  let cur = "";
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (cur === "") cur = line;
    else if (cur.length + 1 + line.length <= max) cur = `${cur}\n${line}`;
    else {
      out.push(cur);
      cur = line;
    }
  }
  if (cur !== "") out.push(cur);
  return out;
}

/**
 * Lines as section blocks, within `maxBlocks`; when they do not fit, the last block says how
 * many lines were left out and where to see them.
 */
export function lineSections(
  lines: readonly string[],
  maxBlocks: number,
  more: string,
): KnownBlock[] {
  const texts = packLines(lines);
  if (texts.length <= maxBlocks) return texts.map((t) => section(t));
  const kept = texts.slice(0, Math.max(0, maxBlocks - 1));
  const shown = kept.reduce((n, t) => n + t.split("\n").length, 0);
  return [...kept.map((t) => section(t)), context(`…and ${lines.length - shown} more. ${more}`)];
}

export function ephemeral(text: string, blocks?: KnownBlock[]): EphemeralMessage {
  return {
    response_type: "ephemeral",
    text: truncate(text, MAX_TEXT),
    blocks: (blocks ?? [section(text)]).slice(0, MAX_BLOCKS),
  };
}

/** A short ephemeral answer: a success, a refusal or an error the person can act on. */
export function buildNotice(text: string): EphemeralMessage {
  return ephemeral(text);
}

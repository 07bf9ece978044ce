import { z } from "zod";
import type { BurstInfo, BurstLead } from "../../services/outbox/sink.js";
import { parseJsonWith } from "../edge.js";
import type { SlackMessage } from "./alert.js";
import {
  context,
  type EphemeralMessage,
  ephemeral,
  escapeMrkdwn,
  header,
  type KnownBlock,
  lineSections,
  MAX_BLOCKS,
  MAX_TEXT,
  mention,
  num,
  section,
  truncate,
} from "./common.js";

/** "List all" under a summary, and "Next" under a page of it; value is a `BurstPage` as JSON. */
export const BURST_LIST = "burst_list";
export const BURST_HEADER_BLOCK = "burst_header";
export const BURST_TOP_BLOCK = "burst_top";
export const BURST_ACTIONS_BLOCK = "burst_actions";
export const BURST_METADATA_EVENT = "leadbot_burst_summary";
/** Leads one page of "List all" shows: one line each, a few sections of a message. */
export const BURST_PAGE_SIZE = 50;

const burstPageSchema = z.object({
  b: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  o: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** What a "List all" or "Next" button carries: the burst and where the page starts. */
export type BurstPage = z.infer<typeof burstPageSchema>;

export function encodeBurstPage(p: BurstPage): string {
  return JSON.stringify(p);
}

export function decodeBurstPage(value: string | undefined): BurstPage | undefined {
  return parseJsonWith(burstPageSchema, value);
}

function leads(n: number): string {
  return n === 1 ? "1 lead" : `${n} leads`;
}

/** "Model v7", "The decay refresh", "An import": what moved the leads, in words. */
export function burstSubject(b: BurstInfo): string {
  switch (b.cause) {
    case "model":
      return `Model v${b.modelVersion}`;
    case "decay":
      return `The rescore under model v${b.modelVersion}`;
    case "import":
      return "An import";
    case "lead":
      return "A lead update";
    default:
      return `A rescore under model v${b.modelVersion}`;
  }
}

/** "Model v7 moved 769 leads to MQL and 12 to SQL." as plain words (no markup). */
export function burstHeadline(b: BurstInfo): string {
  const parts: string[] = [];
  if (b.toMql > 0) parts.push(`${leads(b.toMql)} to MQL`);
  if (b.toSql > 0) parts.push(`${parts.length > 0 ? b.toSql : leads(b.toSql)} to SQL`);
  return `${burstSubject(b)} moved ${parts.join(" and ") || "no leads"}.`;
}

function leadName(l: BurstLead): string {
  return l.name ?? l.email ?? `Lead #${l.leadId}`;
}

/** One line per lead: name, company, stage, score and owner, lead text escaped. */
export function burstLeadLine(l: BurstLead, i: number, withOwner = true): string {
  const company = l.company ? ` · ${escapeMrkdwn(l.company)}` : "";
  const owner = withOwner ? ` · ${mention(l.owner)}` : "";
  return `${i + 1}. *${escapeMrkdwn(leadName(l))}*${company} · ${l.stage.toUpperCase()} · ${num(l.score)}${owner}`;
}

function listButton(burstId: number, offset: number, label: string): KnownBlock {
  return {
    type: "actions",
    block_id: BURST_ACTIONS_BLOCK,
    elements: [
      {
        type: "button",
        action_id: BURST_LIST,
        text: { type: "plain_text", text: label },
        value: encodeBurstPage({ b: burstId, o: offset }),
      },
    ],
  };
}

/** The channel's one message for a change that moved many leads: totals, the top few, List all. */
export function buildBurstSummary(b: BurstInfo, top: readonly BurstLead[]): SlackMessage {
  const headline = burstHeadline(b);
  const total = b.toMql + b.toSql;
  const blocks: KnownBlock[] = [
    header(`${total} leads crossed a threshold at once`, BURST_HEADER_BLOCK),
    section(
      `${escapeMrkdwn(headline)} One summary instead of ${total} alerts; each owner gets their list in a direct message.`,
    ),
  ];
  if (top.length > 0) {
    blocks.push(
      section(
        truncate(
          [`*Top ${top.length}:*`, ...top.map((l, i) => burstLeadLine(l, i))].join("\n"),
          MAX_TEXT,
        ),
        BURST_TOP_BLOCK,
      ),
    );
  }
  blocks.push(listButton(b.burstId, 0, `List all ${total}`));
  const names = top
    .slice(0, 3)
    .map((l) => escapeMrkdwn(leadName(l)))
    .join(", ");
  return {
    text: truncate(`${escapeMrkdwn(headline)}${names ? ` Top: ${names}…` : ""}`, MAX_TEXT),
    blocks,
  };
}

/** One owner's direct message about the same change: the leads of theirs it moved. */
export function buildBurstDigest(
  b: BurstInfo,
  owner: string,
  list: readonly BurstLead[],
  more: number,
): SlackMessage {
  const count = list.length + more;
  const lines = list.map((l, i) => burstLeadLine(l, i, false));
  const blocks: KnownBlock[] = [
    section(
      `${escapeMrkdwn(burstSubject(b))} moved ${leads(count)} of yours, ${mention(owner)}, into MQL or SQL:`,
    ),
    ...lineSections(lines, MAX_BLOCKS - 3, "Use `/lead top` to see them all."),
  ];
  if (more > 0) blocks.push(context(`…and ${more} more. \`/lead top\` lists them by score.`));
  return {
    text: `${escapeMrkdwn(burstSubject(b))} moved ${leads(count)} of yours into MQL or SQL.`,
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

/** A page of every lead a change moved, answered to "List all" (only the clicker sees it). */
export function buildBurstPage(
  b: BurstInfo,
  page: readonly BurstLead[],
  offset: number,
  total: number,
): EphemeralMessage {
  const lines = page.map((l, i) => burstLeadLine(l, offset + i));
  const end = offset + page.length;
  const blocks: KnownBlock[] = [
    section(`*${escapeMrkdwn(burstHeadline(b))}* Leads ${offset + 1}–${end} of ${total}:`),
    ...lineSections(lines, MAX_BLOCKS - 3, ""),
  ];
  if (end < total) blocks.push(listButton(b.burstId, end, "Next"));
  const message = ephemeral(`${burstHeadline(b)} Leads ${offset + 1}–${end} of ${total}.`, blocks);
  return { ...message, text: escapeMrkdwn(message.text) };
}

import type { types } from "@slack/bolt";
import type { Stage } from "../../core/model.js";
import type { AwaitingFeedback } from "../../services/feedback.js";
import type { LeadSummary } from "../../services/leads.js";
import type { LeadFilters } from "../../services/search.js";
import type { StatsReport } from "../../services/stats.js";
import type { Role } from "../../services/team.js";
import { HOME_REFRESH, PROPOSAL_REVIEW } from "../ids.js";
import {
  context,
  divider,
  escapeMrkdwn,
  header,
  type KnownBlock,
  lineSections,
  MAX_TEXT,
  MAX_VALUE,
  MAX_VIEW_BLOCKS,
  mention,
  num,
  section,
  slackDate,
  truncate,
} from "./common.js";
import {
  encodeHomeFoundPage,
  FIND_OPEN,
  HOME_ACTIONS_BLOCK,
  HOME_FOUND_BLOCK,
  HOME_FOUND_NEXT,
  HOME_FOUND_PAGES_BLOCK,
  HOME_FOUND_PREVIOUS,
} from "./ids.js";
import { leadName } from "./leads.js";
import { aucLine, topBandLine } from "./stats.js";

/** Rows per list on the home tab: a glance, with the full lists one command away. */
export const HOME_LIST = 10;
/** Leads a page of a search from the Home tab shows there. */
export const HOME_FOUND = 20;

export interface HomeProposal {
  id: number;
  kind: string;
  proposedBy: string;
  diff: readonly string[];
  createdAt: Date;
}

export interface HomeInput {
  userId: string;
  /** The results of a search made from the Home tab: one page of them. */
  found?:
    | {
        title: string;
        /** The search's filters, carried by the page buttons. */
        filters: LeadFilters;
        leads: readonly LeadSummary[];
        /** Leads before this page (0 for the first). */
        offset?: number | undefined;
        /** Whether more leads match after this page. */
        more?: boolean | undefined;
        savedAs?: string | undefined;
      }
    | undefined;
  role: Role;
  myTop: readonly LeadSummary[];
  /** Up to HOME_LIST are shown; pass one more to say that more are waiting. */
  awaiting: readonly AwaitingFeedback[];
  /** Shown to managers and admins only. */
  proposals: readonly HomeProposal[];
  counts: Record<Stage, number>;
  modelVersion: number;
  now: Date;
  /** How well the score predicts outcomes, over the default stats period. */
  headline?: Pick<StatsReport, "auc" | "bands" | "topDecileLift" | "period"> | undefined;
}

const STAGE_LABEL = { lead: "Lead", mql: "MQL", sql: "SQL" } as const;

function foundBlocks(found: HomeInput["found"]): KnownBlock[] {
  if (!found) return [];
  const offset = found.offset ?? 0;
  const shown = found.leads.slice(0, HOME_FOUND);
  const lines = shown.map(
    (l, i) =>
      `${offset + i + 1}. *${escapeMrkdwn(leadName(l))}*${l.company ? ` · ${escapeMrkdwn(l.company)}` : ""} — ${num(l.score)} ${l.grade}${l.level} ${STAGE_LABEL[l.stage]}${l.owner ? ` · ${mention(l.owner)}` : ""} · \`/lead why ${l.id}\``,
  );
  const saved = found.savedAs
    ? ` Saved as view *${escapeMrkdwn(found.savedAs)}*: \`/lead top 20 view:${escapeMrkdwn(found.savedAs)}\`.`
    : "";
  const range =
    shown.length > 0 && (offset > 0 || found.more)
      ? ` (${offset + 1}–${offset + shown.length})`
      : "";
  const empty = offset > 0 ? "No more leads match these filters." : "No leads match these filters.";
  return [
    divider,
    section(`*Leads found*${range}: ${escapeMrkdwn(found.title)}`, HOME_FOUND_BLOCK),
    ...(lines.length > 0 ? lineSections(lines, 4, "") : [context(empty)]),
    ...foundPages(found, offset),
    ...(saved ? [context(saved.trim())] : []),
  ];
}

/** "Previous" and "Next" under the leads found, when there is a page either side. */
function foundPages(found: NonNullable<HomeInput["found"]>, offset: number): KnownBlock[] {
  const pages: { id: string; text: string; at: number }[] = [];
  if (offset > 0) {
    const at = Math.max(0, offset - HOME_FOUND);
    pages.push({ id: HOME_FOUND_PREVIOUS, text: `Previous ${HOME_FOUND}`, at });
  }
  if (found.more)
    pages.push({ id: HOME_FOUND_NEXT, text: `Next ${HOME_FOUND}`, at: offset + HOME_FOUND });
  const elements = pages
    .map((p) => ({
      type: "button" as const,
      action_id: p.id,
      text: { type: "plain_text" as const, text: p.text },
      value: encodeHomeFoundPage({ filters: found.filters, offset: p.at, savedAs: found.savedAs }),
    }))
    .filter((e) => e.value.length <= MAX_VALUE);
  return elements.length > 0
    ? [{ type: "actions", block_id: HOME_FOUND_PAGES_BLOCK, elements }]
    : [];
}

/** One line: the AUC and the top band's conversion, or what is missing for them. */
function headlineBlocks(r: HomeInput["headline"]): KnownBlock[] {
  if (!r) return [];
  const parts = [r.auc ? aucLine(r) : undefined, topBandLine(r)].filter(Boolean);
  if (parts.length === 0)
    return [context("Record won and lost outcomes to see how well the score predicts them.")];
  return [
    section(
      `${parts.join("\n")}\n_${r.period.name === "all" ? "All time" : `Last ${r.period.name}`} · \`/lead stats\` for charts_`,
    ),
  ];
}

/**
 * The home tab of one person. Each section has a fixed block budget, so the view stays under
 * Slack's 100 blocks however many leads or proposals there are.
 */
export function buildHome(h: HomeInput): types.HomeView {
  const blocks: KnownBlock[] = [
    header("Leadbot"),
    section(
      `Hi ${mention(h.userId)} (${h.role}). *SQL* ${h.counts.sql} · *MQL* ${h.counts.mql} · *Lead* ${h.counts.lead} · scoring model *v${h.modelVersion}*`,
    ),
    ...headlineBlocks(h.headline),
    {
      type: "actions",
      block_id: HOME_ACTIONS_BLOCK,
      elements: [
        { type: "button", action_id: HOME_REFRESH, text: { type: "plain_text", text: "Refresh" } },
        { type: "button", action_id: FIND_OPEN, text: { type: "plain_text", text: "Find leads" } },
      ],
    },
    ...foundBlocks(h.found),
    divider,
    section("*My top leads*"),
  ];
  if (h.myTop.length === 0) {
    blocks.push(
      context("No leads are yours yet. Claim one from an alert, or `/lead assign <lead> @you`."),
    );
  } else {
    const lines = h.myTop
      .slice(0, HOME_LIST)
      .map(
        (l, i) =>
          `${i + 1}. *${escapeMrkdwn(leadName(l))}*${l.company ? ` · ${escapeMrkdwn(l.company)}` : ""} — ${num(l.score)} ${l.grade}${l.level} ${STAGE_LABEL[l.stage]}`,
      );
    blocks.push(...lineSections(lines, 3, "`/lead top 50 mine` lists them all."));
  }
  blocks.push(divider, section("*Waiting for your feedback*"));
  if (h.awaiting.length === 0) {
    blocks.push(context("Nothing: every alert about your leads has an outcome."));
  } else {
    const lines = h.awaiting
      .slice(0, HOME_LIST)
      .map(
        (a) =>
          `• *${escapeMrkdwn(leadName(a))}*${a.company ? ` · ${escapeMrkdwn(a.company)}` : ""} — ${STAGE_LABEL[a.stage]} alert ${slackDate(a.alertedAt)}, now ${num(a.score)} · \`/lead won id:${a.leadId}\` or \`/lead lost id:${a.leadId}\``,
      );
    if (h.awaiting.length > HOME_LIST) {
      lines.push("…and more: `/lead top 50 mine` lists all your leads.");
    }
    blocks.push(...lineSections(lines, 4, ""));
  }
  if (h.role === "manager" || h.role === "admin") {
    blocks.push(divider, section("*Model changes waiting for approval*"));
    if (h.proposals.length === 0) blocks.push(context("None pending."));
    const shown = h.proposals.slice(0, HOME_LIST);
    for (const p of shown) {
      const diff =
        p.diff.length > 0
          ? p.diff.map((d) => `• ${escapeMrkdwn(d)}`).join("\n")
          : "• (no change listed)";
      const own = p.proposedBy === h.userId;
      const text = truncate(
        `*#${p.id}* ${escapeMrkdwn(p.kind)} by ${mention(p.proposedBy)} ${slackDate(p.createdAt)}${own ? " — _yours: another manager decides_" : ""}\n${diff}`,
        MAX_TEXT,
      );
      // Review opens the same modal as on the proposal message, so nobody hunts for the DM.
      blocks.push(
        own
          ? section(text)
          : {
              type: "section",
              text: { type: "mrkdwn", text },
              accessory: {
                type: "button",
                action_id: PROPOSAL_REVIEW,
                value: String(p.id),
                text: { type: "plain_text", text: "Review" },
                style: "primary",
              },
            },
      );
    }
    if (h.proposals.length > shown.length) {
      blocks.push(context(`…and ${h.proposals.length - shown.length} more pending.`));
    }
  }
  blocks.push(context(`Updated ${slackDate(h.now)}. \`/lead help\` lists every command.`));
  return { type: "home", blocks: blocks.slice(0, MAX_VIEW_BLOCKS) };
}

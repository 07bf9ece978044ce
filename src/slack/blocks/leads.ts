import { ENGAGEMENT_CAP_RULE, FIT_CAP_RULE } from "../../core/engine.js";
import { type BreakdownEntry, DEFAULT_MODEL_KEY } from "../../core/model.js";
import type { Explanation } from "../../services/explain.js";
import type { LeadDetail, LeadSummary } from "../../services/leads.js";
import {
  context,
  type EphemeralMessage,
  ephemeral,
  escapeMrkdwn,
  header,
  type KnownBlock,
  lineSections,
  MAX_BLOCKS,
  mention,
  num,
  section,
  signed,
  slackDate,
  truncate,
} from "./common.js";
import {
  encodeListPage,
  LEAD_LIST_HEADER_BLOCK,
  LEAD_LIST_MORE_BLOCK,
  LEAD_MENU,
  LEAD_SHOW,
  LEAD_WHY,
  LIST_PAGE,
  type ListPage,
} from "./ids.js";

const CAP_RULES = new Set([FIT_CAP_RULE, ENGAGEMENT_CAP_RULE]);
/** Leads per message: one section each (with buttons), well inside the 50-block limit. */
export const LIST_PAGE_SIZE = 20;
/** Breakdown lines shown with `show`; `why` shows them all. */
const SHOW_REASONS = 8;
const STAGE_LABEL = { lead: "Lead", mql: "MQL", sql: "SQL" } as const;

export function leadName(l: {
  name?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  email: string | null;
  id?: number;
  leadId?: number;
}): string {
  const full = l.name ?? ([l.firstName, l.lastName].filter(Boolean).join(" ").trim() || null);
  return full || l.email || `Lead #${l.id ?? l.leadId ?? "?"}`;
}

function whoLine(title: string | null, company: string | null): string {
  const parts = [title, company].filter((s): s is string => Boolean(s)).map(escapeMrkdwn);
  return parts.length > 0 ? ` · ${parts.join(" at ")}` : "";
}

function leadRow(l: LeadSummary, rank: number, showModel: boolean): KnownBlock {
  const model = showModel && l.model ? ` · model ${escapeMrkdwn(l.model)}` : "";
  const text = [
    `*${rank}. ${escapeMrkdwn(leadName(l))}*${whoLine(l.title, l.company)}`,
    `*${num(l.score)}* · ${l.grade}${l.level} · ${STAGE_LABEL[l.stage]}${model}${l.email ? ` · ${escapeMrkdwn(l.email)}` : ""}${l.owner ? ` · ${mention(l.owner)}` : ""}`,
  ].join("\n");
  return {
    type: "section",
    block_id: `lead_${l.id}`,
    text: { type: "mrkdwn", text: truncate(text, 3000) },
    accessory: {
      type: "overflow",
      action_id: LEAD_MENU,
      options: [
        { text: { type: "plain_text", text: "Why this score" }, value: `${LEAD_WHY}:${l.id}` },
        { text: { type: "plain_text", text: "Show lead" }, value: `${LEAD_SHOW}:${l.id}` },
      ],
    },
  };
}

export interface LeadListInput {
  title: string;
  leads: readonly LeadSummary[];
  /** Rank of the first lead minus one. */
  offset: number;
  /** The query for the next page, when there is one. */
  next?: ListPage | undefined;
  /** Shown when the list is empty. */
  empty: string;
}

/** A page of leads; a longer list ends with a "Next" button instead of being cut or refused. */
export function buildLeadList(p: LeadListInput): EphemeralMessage {
  if (p.leads.length === 0) return ephemeral(p.empty);
  const first = p.offset + 1;
  const last = p.offset + p.leads.length;
  // An install with the default model alone reads as before; with several, each row names its own.
  const showModel = p.leads.some((l) => l.model !== undefined && l.model !== DEFAULT_MODEL_KEY);
  const blocks: KnownBlock[] = [
    section(`*${escapeMrkdwn(p.title)}* (${first}–${last})`, LEAD_LIST_HEADER_BLOCK),
    ...p.leads.slice(0, LIST_PAGE_SIZE).map((l, i) => leadRow(l, first + i, showModel)),
  ];
  if (p.next) {
    blocks.push({
      type: "actions",
      block_id: LEAD_LIST_MORE_BLOCK,
      elements: [
        {
          type: "button",
          action_id: LIST_PAGE,
          text: {
            type: "plain_text",
            text: `Next ${Math.min(LIST_PAGE_SIZE, p.next.limit - p.next.offset)}`,
          },
          value: encodeListPage(p.next),
        },
      ],
    });
  }
  const text = `${escapeMrkdwn(p.title)}: ${p.leads.map((l) => `${escapeMrkdwn(leadName(l))} ${num(l.score)}`).join(", ")}`;
  return ephemeral(truncate(text, 3000), blocks.slice(0, MAX_BLOCKS));
}

function reasonLine(r: BreakdownEntry): string {
  const times = r.count > 1 ? ` ×${r.count}` : "";
  const decay =
    Math.abs(r.basePoints - r.points) >= 0.05 ? ` (${signed(r.basePoints)} before decay)` : "";
  return `\`${signed(r.points).padStart(6)}\` ${escapeMrkdwn(r.label)}${times}${decay}  _${r.ruleId}_`;
}

/** How the owner got the lead: a routing rule, a claim, or a person assigning it. */
function howAssigned(a: LeadDetail["assignment"]): string {
  if (!a) return "";
  if (a.source === "rule") return `\nrouted by rule *${escapeMrkdwn(a.rule ?? "?")}*`;
  if (a.source === "claim") return `\nclaimed ${slackDate(a.at)}`;
  return `\nassigned by ${mention(a.by)} ${slackDate(a.at)}`;
}

/** One lead: who, where it stands, the strongest reasons and what happened to it. */
/**
 * One lead. `sparkline` is an uploaded PNG of the score history (a Slack file id): an image block
 * can show an uploaded file without a public URL.
 */
export function buildLeadDetail(
  d: LeadDetail,
  sparkline?: { fileId: string } | undefined,
): EphemeralMessage {
  const name = leadName(d);
  const fields = [
    `*Score*\n${num(d.score)} (${d.matrix})`,
    `*Stage*\n${STAGE_LABEL[d.stage]}`,
    `*Fit*\n${num(d.fit)}`,
    `*Engagement*\n${num(d.engagement)}`,
    `*Owner*\n${mention(d.owner)}${howAssigned(d.assignment)}`,
    `*Email*\n${escapeMrkdwn(d.email ?? "—")}`,
  ];
  const facts = [
    d.industry && `Industry: ${escapeMrkdwn(d.industry)}`,
    d.employees !== null && d.employees !== undefined && `Employees: ${d.employees}`,
    d.country && `Country: ${escapeMrkdwn(d.country)}`,
    d.source && `Source: ${escapeMrkdwn(d.source)}`,
    `Lead #${d.id}`,
  ].filter((s): s is string => Boolean(s));
  const blocks: KnownBlock[] = [
    header(name),
    {
      type: "section",
      text: {
        type: "mrkdwn",
        text: truncate(`*${escapeMrkdwn(name)}*${whoLine(d.title, d.company)}`, 3000),
      },
      fields: fields.map((f) => ({ type: "mrkdwn", text: truncate(f, 2000) })),
    },
    context(facts.join(" · ")),
  ];
  if (d.closed) {
    const why = d.closed.reason ? ` (${escapeMrkdwn(d.closed.reason.replace(/_/g, " "))})` : "";
    blocks.push(
      section(
        `:lock: *Closed: ${d.closed.outcome === "won" ? "won" : "not a fit"}*${why} ${slackDate(d.closed.at)} by ${mention(d.closed.by)}. New crossings are recorded but not alerted. \`/lead reopen ${d.id}\` puts it back.`,
      ),
    );
  }
  if (sparkline) {
    blocks.push({
      type: "image",
      slack_file: { id: sparkline.fileId },
      alt_text: `Score history of ${truncate(name, 100)}`,
    } as KnownBlock);
  }
  const reasons = d.breakdown.slice(0, SHOW_REASONS).map(reasonLine);
  if (reasons.length > 0) {
    const more =
      d.breakdown.length > SHOW_REASONS
        ? `\n_${d.breakdown.length - SHOW_REASONS} more: /lead why id:${d.id}_`
        : "";
    blocks.push(section(`*Why*\n${reasons.join("\n")}${more}`));
  }
  const story = [
    ...d.transitions
      .slice(0, 5)
      .map(
        (t) =>
          `${slackDate(t.at)} ${STAGE_LABEL[t.from as keyof typeof STAGE_LABEL] ?? t.from} → ${STAGE_LABEL[t.to as keyof typeof STAGE_LABEL] ?? t.to} at ${num(t.score)} (${t.cause})`,
      ),
    ...d.outcomes
      .slice(0, 5)
      .map(
        (o) =>
          `${slackDate(o.at)} marked *${o.outcome.replace(/_/g, " ")}* by ${mention(o.by)}${o.reason ? ` (${escapeMrkdwn(o.reason.replace(/_/g, " "))})` : ""}`,
      ),
  ];
  if (story.length > 0) blocks.push(section(`*History*\n${story.join("\n")}`));
  return ephemeral(
    `${escapeMrkdwn(name)}: ${num(d.score)} (${d.matrix}), ${STAGE_LABEL[d.stage]}`,
    blocks,
  );
}

/** Every point of the score, rule by rule, after decay as of now; totals add up to the score. */
export function buildWhy(e: Explanation): EphemeralMessage {
  const name = leadName({ name: e.name, email: e.email, id: e.leadId });
  const r = e.result;
  const groups: { title: string; items: BreakdownEntry[] }[] = [
    { title: `Fit (${num(r.fit)})`, items: r.breakdown.filter((b) => b.group === "fit") },
    {
      title: `Engagement (${num(r.engagement)})`,
      items: r.breakdown.filter((b) => b.group === "engagement"),
    },
  ];
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`*${g.title}*`);
    if (g.items.length === 0) lines.push("_nothing yet_");
    // Biggest contributions first; a cap line, which trims the group's total, comes last.
    const sorted = [...g.items].sort(
      (a, b) =>
        Number(CAP_RULES.has(a.ruleId)) - Number(CAP_RULES.has(b.ruleId)) ||
        Math.abs(b.points) - Math.abs(a.points),
    );
    for (const item of sorted) {
      lines.push(reasonLine(item));
    }
  }
  const blocks: KnownBlock[] = [
    header(`Why ${name} scores ${num(r.total)}`),
    section(
      `*${num(r.total)}* = fit ${num(r.fit)} + engagement ${num(r.engagement)} · grade *${r.matrix}* · stage *${STAGE_LABEL[e.stage]}*`,
    ),
    ...lineSections(lines, MAX_BLOCKS - 3, `See them all with GET /api/v1/leads/${e.leadId}.`),
    context(
      `Scored ${slackDate(new Date(e.at))} with ${e.modelKey && e.modelKey !== DEFAULT_MODEL_KEY ? `model ${escapeMrkdwn(e.modelKey)} ` : "model "}v${e.modelVersion}; engagement points decay with time.`,
    ),
  ];
  return ephemeral(`Why ${escapeMrkdwn(name)} scores ${num(r.total)}`, blocks);
}

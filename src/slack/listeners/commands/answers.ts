import { parseFilters } from "../../../services/search.js";
import type { LostReason } from "../../../services/team.js";
import {
  buildNotice,
  type EphemeralMessage,
  escapeMrkdwn,
  MAX_BLOCKS,
  mention,
} from "../../blocks/common.js";
import { describeFilters } from "../../blocks/find.js";
import type { ListPage } from "../../blocks/ids.js";
import { buildLeadList, buildWhy, LIST_PAGE_SIZE } from "../../blocks/leads.js";
import { LOST_REASON_LABEL } from "../../blocks/lost.js";
import { buildVersionBlocks, HISTORY_VERSIONS } from "../../blocks/model-history.js";
import { buildHistory } from "../../blocks/team.js";
import type { WebClient } from "../../client.js";
import type { SlackDeps } from "../../deps.js";
import { updateAlertMessage } from "../alert-message.js";

/** Blocks the model versions may take in `/lead history`; recent activity gets the rest. */
const HISTORY_VERSION_BLOCKS = 20;
/** Entries `/lead history` shows. */
const HISTORY_ENTRIES = 20;

/**
 * The answers to `/lead` subcommands, each a thin call into a service and a builder. The
 * router and the buttons (paging, the lead menu) share them, so each capability has one path.
 */

export async function answerPage(deps: SlackDeps, page: ListPage): Promise<EphemeralMessage> {
  const { leads: leadService } = deps.services;
  const size = Math.min(LIST_PAGE_SIZE, page.limit - page.offset);
  if (page.q === "find") {
    const leads = await leadService.find(page.text ?? "", LIST_PAGE_SIZE);
    return buildLeadList({
      title: `Leads matching "${page.text ?? ""}"`,
      leads,
      offset: 0,
      empty: `No lead matches "${escapeMrkdwn(page.text ?? "")}". Search by name, email or company.`,
    });
  }
  if (page.q === "search") {
    const filters = parseFilters(page.filters ?? {});
    const leads = await leadService.search(filters, { limit: size, offset: page.offset });
    const nextOffset = page.offset + leads.length;
    const title = page.title ?? `Leads: ${describeFilters(filters)}`;
    return buildLeadList({
      title,
      leads,
      offset: page.offset,
      next:
        leads.length === size && nextOffset < page.limit
          ? { ...page, offset: nextOffset }
          : undefined,
      empty: page.offset > 0 ? "No more leads." : `No leads match: ${describeFilters(filters)}.`,
    });
  }
  const leads = await leadService.top({
    limit: size,
    stage: page.stage ?? "all",
    owner: page.owner,
    offset: page.offset,
    model: page.model,
  });
  const nextOffset = page.offset + leads.length;
  const stage = page.stage && page.stage !== "all" ? ` ${page.stage.toUpperCase()}` : "";
  const whose = page.owner ? ` owned by ${mention(page.owner)}` : "";
  const scoredBy = page.model ? ` scored by model ${page.model}` : "";
  return buildLeadList({
    title: `Top ${page.limit}${stage} leads${whose}${scoredBy}`,
    leads,
    offset: page.offset,
    next:
      leads.length === size && nextOffset < page.limit
        ? { ...page, offset: nextOffset }
        : undefined,
    empty:
      page.offset > 0
        ? "No more leads."
        : `No${stage} leads${whose}${scoredBy} yet. Leads arrive through the ingest API or \`leadbot import\`.`,
  });
}

export async function answerWhy(deps: SlackDeps, lead: string): Promise<EphemeralMessage> {
  return buildWhy(await deps.services.leads.explain(lead));
}

/** `/lead reopen`: a won or not-a-fit lead is alerted on again from its next crossing. */
export async function answerReopen(
  deps: SlackDeps,
  by: string,
  lead: string,
): Promise<EphemeralMessage> {
  const r = await deps.services.leads.reopen({ lead, by, source: "slack-command" });
  if (!r.reopened) {
    return buildNotice(`Lead #${r.leadId} is not closed: its crossings are already alerted.`);
  }
  const was = r.was?.outcome === "won" ? "won" : "not a fit";
  return buildNotice(
    `:unlock: Lead #${r.leadId} (was ${was}) is open again: its next MQL or SQL crossing is alerted.`,
  );
}

/** Model versions first (who proposed, who approved, when, the diff), then recent activity. */
export async function answerHistory(deps: SlackDeps): Promise<EphemeralMessage> {
  const [versions, audit] = await Promise.all([
    deps.services.models.history(HISTORY_VERSIONS),
    deps.services.team.history(HISTORY_ENTRIES),
  ]);
  const activity = buildHistory(audit);
  const top = buildVersionBlocks(versions, HISTORY_VERSION_BLOCKS);
  return { ...activity, blocks: [...top, ...activity.blocks].slice(0, MAX_BLOCKS) };
}

export async function answerRole(
  deps: SlackDeps,
  by: string,
  userId: string,
  role: "admin" | "manager" | "rep",
): Promise<EphemeralMessage> {
  await deps.services.team.grantRole({ by, userId, role });
  return buildNotice(`${mention(userId)} is now a ${role}.`);
}

export async function answerAssign(
  deps: SlackDeps,
  by: string,
  lead: string,
  owner: string,
): Promise<EphemeralMessage> {
  const r = await deps.services.leads.assign({ lead, owner, by });
  if (!r.changed) return buildNotice(`${mention(owner)} already owns lead #${r.leadId}.`);
  const was = r.previous ? ` (was ${mention(r.previous)})` : "";
  return buildNotice(`Lead #${r.leadId} now belongs to ${mention(owner)}${was}.`);
}

/**
 * Records won / lost from the command line, then updates the lead's alert in the channel the
 * same way the buttons do.
 */
export async function answerOutcome(
  deps: SlackDeps,
  client: WebClient,
  p: {
    by: string;
    lead: string;
    outcome: "won" | "lost";
    reason?: LostReason | undefined;
    note?: string | undefined;
  },
): Promise<EphemeralMessage> {
  const result = await deps.services.leads.recordOutcome({
    lead: p.lead,
    outcome: p.outcome,
    by: p.by,
    source: "slack-command",
    reason: p.reason,
    note: p.note,
  });
  const alert = await deps.services.alerts.latestPosted(result.leadId);
  if (alert) await updateAlertMessage(deps, client, alert, { kind: "resolved", outcome: result });
  const label = p.outcome === "won" ? "won" : "lost";
  const why = result.reason
    ? ` (${LOST_REASON_LABEL[result.reason as LostReason] ?? result.reason})`
    : "";
  if (!result.recorded) {
    return buildNotice(
      `Lead #${result.leadId} was already marked ${label}${why} by ${mention(result.by)}; nothing changed.`,
    );
  }
  return buildNotice(
    `:white_check_mark: Lead #${result.leadId} marked *${label}*${why}. Thanks: this feeds back into scoring.`,
  );
}

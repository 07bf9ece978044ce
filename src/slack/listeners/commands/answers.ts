import type { LostReason } from "../../../services/team.js";
import { buildNotice, type EphemeralMessage, escapeMrkdwn, mention } from "../../blocks/common.js";
import type { ListPage } from "../../blocks/ids.js";
import { buildLeadDetail, buildLeadList, buildWhy, LIST_PAGE_SIZE } from "../../blocks/leads.js";
import { LOST_REASON_LABEL } from "../../blocks/lost.js";
import { buildHistory, buildStats } from "../../blocks/team.js";
import type { WebClient } from "../../client.js";
import type { SlackDeps } from "../../deps.js";
import { updateAlertMessage } from "../alert-message.js";

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
  const leads = await leadService.top({
    limit: size,
    stage: page.stage ?? "all",
    owner: page.owner,
    offset: page.offset,
  });
  const nextOffset = page.offset + leads.length;
  const stage = page.stage && page.stage !== "all" ? ` ${page.stage.toUpperCase()}` : "";
  const whose = page.owner ? ` owned by ${mention(page.owner)}` : "";
  return buildLeadList({
    title: `Top ${page.limit}${stage} leads${whose}`,
    leads,
    offset: page.offset,
    next:
      leads.length === size && nextOffset < page.limit
        ? { ...page, offset: nextOffset }
        : undefined,
    empty:
      page.offset > 0
        ? "No more leads."
        : `No${stage} leads${whose} yet. Leads arrive through the ingest API or \`leadbot import\`.`,
  });
}

export async function answerShow(deps: SlackDeps, lead: string): Promise<EphemeralMessage> {
  return buildLeadDetail(await deps.services.leads.get(lead));
}

export async function answerWhy(deps: SlackDeps, lead: string): Promise<EphemeralMessage> {
  return buildWhy(await deps.services.leads.explain(lead));
}

export async function answerStats(deps: SlackDeps): Promise<EphemeralMessage> {
  const [stats, model] = await Promise.all([
    deps.services.team.stats(),
    deps.services.models.active(),
  ]);
  return buildStats(stats, model.version);
}

export async function answerHistory(deps: SlackDeps): Promise<EphemeralMessage> {
  return buildHistory(await deps.services.team.history(HISTORY_ENTRIES));
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

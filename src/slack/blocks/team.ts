import type { AuditRow, Stats } from "../../services/team.js";
import {
  context,
  type EphemeralMessage,
  ephemeral,
  escapeMrkdwn,
  header,
  lineSections,
  MAX_BLOCKS,
  mention,
  slackDate,
} from "./common.js";

function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 1000) / 10}%` : "—";
}

export function buildStats(s: Stats, modelVersion: number): EphemeralMessage {
  const total = s.stages.lead + s.stages.mql + s.stages.sql;
  const lines = [
    `*Leads by stage* (${total} scored)`,
    `• SQL: *${s.stages.sql}*  • MQL: *${s.stages.mql}*  • Lead: *${s.stages.lead}*`,
    "*Outcomes, last 30 days*",
    `• Won: *${s.outcomes30d.won}*  • Lost: *${s.outcomes30d.lost}*  • Not a fit: *${s.outcomes30d.not_a_fit}*`,
    `*MQL → won*: ${s.mqlToWon.won} of ${s.mqlToWon.mqls} (${pct(s.mqlToWon.won, s.mqlToWon.mqls)})`,
    `*Alerts waiting to be posted*: ${s.alertsPending}`,
  ];
  return ephemeral(
    `SQL ${s.stages.sql}, MQL ${s.stages.mql}, lead ${s.stages.lead}; won ${s.outcomes30d.won} in 30 days`,
    [
      header("Lead stats"),
      ...lineSections(lines, 10, ""),
      context(`Scoring model v${modelVersion}`),
    ],
  );
}

function describeAudit(r: AuditRow): string {
  const d = (r.details ?? {}) as Record<string, unknown>;
  const what = r.action.replace(/[._]/g, " ");
  const extra =
    typeof d.reason === "string"
      ? ` (${d.reason.replace(/_/g, " ")})`
      : typeof d.owner === "string"
        ? ` → ${mention(d.owner)}`
        : typeof d.role === "string"
          ? ` → ${d.role}`
          : "";
  return `${slackDate(r.at)} ${mention(r.actor)} ${escapeMrkdwn(what)} ${escapeMrkdwn(r.subject ?? "")}${extra}`;
}

export function buildHistory(rows: readonly AuditRow[]): EphemeralMessage {
  if (rows.length === 0) return ephemeral("Nothing has happened yet.");
  return ephemeral(`Last ${rows.length} changes`, [
    header("Recent activity"),
    ...lineSections(rows.map(describeAudit), MAX_BLOCKS - 1, "Older entries are in the audit log."),
  ]);
}

import type { AuditRow } from "../../services/team.js";
import {
  type EphemeralMessage,
  ephemeral,
  escapeMrkdwn,
  header,
  lineSections,
  MAX_BLOCKS,
  mention,
  slackDate,
} from "./common.js";

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

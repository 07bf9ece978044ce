import type { AlertLead, MessageKind, OutgoingMessage } from "../../services/outbox/sink.js";
import {
  type AlertView,
  buildAlertClaimed,
  buildAlertMessage,
  buildAlertResolved,
  type SlackMessage,
} from "../blocks/alert.js";
import { BURST_METADATA_EVENT, buildBurstDigest, buildBurstSummary } from "../blocks/burst.js";
import { buildDigestMessage, buildReminderMessage } from "../blocks/digest.js";
import { buildErasedMessage } from "../blocks/erased.js";
import {
  ALERT_METADATA_EVENT,
  DIGEST_METADATA_EVENT,
  ERASURE_METADATA_EVENT,
  REMINDER_METADATA_EVENT,
} from "../ids.js";

/** Message metadata Slack keeps with a post; reconciliation finds a post by it. */
export interface SlackMetadata {
  event_type: string;
  event_payload: Record<string, string | number>;
}

/** The metadata event type of each kind, and the payload field that holds its key's id. */
export const METADATA_OF: Record<MessageKind, { eventType: string; idField: string }> = {
  stage_alert: { eventType: ALERT_METADATA_EVENT, idField: "alert_id" },
  burst_summary: { eventType: BURST_METADATA_EVENT, idField: "summary_id" },
  burst_digest: { eventType: BURST_METADATA_EVENT, idField: "summary_id" },
  digest: { eventType: DIGEST_METADATA_EVENT, idField: "message_id" },
  reminder: { eventType: REMINDER_METADATA_EVENT, idField: "message_id" },
  erasure: { eventType: ERASURE_METADATA_EVENT, idField: "erasure_id" },
};

function leadName(l: AlertLead): string {
  const full = [l.firstName, l.lastName].filter(Boolean).join(" ").trim();
  return full || l.email || `Lead #${l.leadId}`;
}

/** What an alert message shows, from the alert's row and its lead as they are now. */
export function alertViewOf(row: { id: number; stage: string }, l: AlertLead): AlertView {
  const level = Math.min(4, Math.max(1, Math.round(l.level)));
  return {
    alertId: row.id,
    leadId: l.leadId,
    stage: row.stage === "sql" ? "sql" : "mql",
    name: leadName(l),
    email: l.email,
    title: l.title,
    company: l.company,
    score: l.total,
    fit: l.fit,
    engagement: l.engagement,
    grade: l.grade,
    matrix: `${l.grade}${level}`,
    reasons: [...l.breakdown].sort((a, b) => b.points - a.points).slice(0, 5),
    owner: l.owner,
    ...(l.modelKey ? { model: l.modelKey } : {}),
    routedBy: l.routedBy,
  };
}

/**
 * Block Kit and metadata of each kind of outgoing message. A new kind of outbox message gets its
 * `case` here, with its builder in `src/slack/blocks/` and its entry in METADATA_OF.
 */
export function renderMessage(msg: OutgoingMessage): SlackMessage & { metadata: SlackMetadata } {
  switch (msg.kind) {
    case "stage_alert": {
      const view = alertViewOf({ id: msg.alertId, stage: msg.stage }, msg.lead);
      const status = msg.status;
      const message =
        status?.kind === "resolved"
          ? buildAlertResolved(view, {
              outcome: status.outcome,
              by: status.by,
              at: status.at,
              reason: status.reason?.replace(/_/g, " "),
            })
          : status?.kind === "claimed"
            ? buildAlertClaimed(view, status.by)
            : buildAlertMessage(view);
      return {
        ...message,
        metadata: {
          event_type: METADATA_OF.stage_alert.eventType,
          event_payload: { alert_id: msg.alertId, lead_id: msg.leadId, stage: msg.stage },
        },
      };
    }
    case "burst_summary":
      return {
        ...buildBurstSummary(msg.burst, msg.top),
        metadata: {
          event_type: METADATA_OF.burst_summary.eventType,
          event_payload: { summary_id: msg.summaryId, burst_id: msg.burst.burstId },
        },
      };
    case "burst_digest":
      return {
        ...buildBurstDigest(msg.burst, msg.owner, msg.leads, msg.more),
        metadata: {
          event_type: METADATA_OF.burst_digest.eventType,
          event_payload: { summary_id: msg.summaryId, burst_id: msg.burst.burstId },
        },
      };
    case "digest":
    case "reminder": {
      const message =
        msg.kind === "digest"
          ? buildDigestMessage(msg.digest, { chartUploaded: msg.chartUploaded === true })
          : buildReminderMessage(msg.reminder);
      return {
        ...message,
        metadata: {
          event_type: METADATA_OF[msg.kind].eventType,
          event_payload: { message_id: msg.id },
        },
      };
    }
    case "erasure":
      return {
        ...buildErasedMessage(msg.at),
        metadata: {
          event_type: METADATA_OF.erasure.eventType,
          event_payload: { erasure_id: msg.erasureId },
        },
      };
  }
}

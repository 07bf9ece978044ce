import { z } from "zod";
import { parseJsonWith } from "./edge.js";

/**
 * Block Kit identifiers shared by the builders, the listeners and the tests. A listener matches on
 * these exact strings, so renaming one here renames it everywhere at once.
 */

/** Buttons on an MQL/SQL alert; each value is an `AlertActionValue` as JSON. */
export const ALERT_WON = "alert_won";
export const ALERT_LOST = "alert_lost";
export const ALERT_NOT_A_FIT = "alert_not_a_fit";
export const ALERT_CLAIM = "alert_claim";
/** Opens the lead in a modal with the full breakdown. */
export const ALERT_VIEW_LEAD = "alert_view_lead";
export const ALERT_ACTION_IDS = [ALERT_WON, ALERT_LOST, ALERT_NOT_A_FIT, ALERT_CLAIM] as const;
export type AlertActionId = (typeof ALERT_ACTION_IDS)[number];

/** Block ids of an alert message. */
export const ALERT_HEADER_BLOCK = "alert_header";
export const ALERT_FIELDS_BLOCK = "alert_fields";
export const ALERT_REASONS_BLOCK = "alert_reasons";
export const ALERT_ACTIONS_BLOCK = "alert_actions";
export const ALERT_STATUS_BLOCK = "alert_status";
/** Who a routing rule gave the lead to, and which rule. */
export const ALERT_ROUTED_BLOCK = "alert_routed";

/** The "why was it lost" modal opened by the Lost button. */
export const LOST_REASON_MODAL = "lost_reason_modal";
export const LOST_REASON_BLOCK = "lost_reason";
export const LOST_REASON_ACTION = "lost_reason_select";
export const LOST_NOTE_BLOCK = "lost_note";
export const LOST_NOTE_ACTION = "lost_note_input";

/** The "not a fit" modal, asking which fact made the lead a poor fit. */
export const NOT_A_FIT_MODAL = "not_a_fit_modal";
export const NOT_A_FIT_REASON_BLOCK = "not_a_fit_reason";
export const NOT_A_FIT_REASON_ACTION = "not_a_fit_reason_input";

/** Model change proposals (approve / reject buttons on the proposal message). */
export const PROPOSAL_APPROVE = "proposal_approve";
export const PROPOSAL_REJECT = "proposal_reject";
export const PROPOSAL_DECISION_MODAL = "proposal_decision_modal";
/** Review: opens the review modal (diff, impact, backtest) whose submit approves. */
export const PROPOSAL_REVIEW = "proposal_review";
export const PROPOSAL_REVIEW_MODAL = "proposal_review_modal";
/** The approver's optional comment in the review modal; it goes to the audit and the announcement. */
export const PROPOSAL_COMMENT_BLOCK = "proposal_comment";
export const PROPOSAL_COMMENT_ACTION = "proposal_comment_input";
/** The bold line over the decision when a change moves more than half of all leads. */
export const PROPOSAL_WARNING_BLOCK = "proposal_warning";

/** App Home. */
export const HOME_REFRESH = "home_refresh";

/** Message metadata event type of an alert post; reconciliation looks for it. */
export const ALERT_METADATA_EVENT = "leadbot_alert";
export const DIGEST_METADATA_EVENT = "leadbot_digest";
export const REMINDER_METADATA_EVENT = "leadbot_reminder";
export const DIGEST_HEADER_BLOCK = "digest_header";
export const DIGEST_BANDS_BLOCK = "digest_bands";
export const REMINDER_HEADER_BLOCK = "reminder_header";
/** Metadata event type of a message rewritten after its lead was erased. */
export const ERASURE_METADATA_EVENT = "leadbot_erasure";

const alertActionSchema = z.object({
  alertId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  leadId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

/** What an alert button carries: enough to act without reading the message. */
export type AlertActionValue = z.infer<typeof alertActionSchema>;

export function encodeAlertAction(v: AlertActionValue): string {
  return JSON.stringify({ alertId: v.alertId, leadId: v.leadId });
}

/** Reads a button value back; undefined when it is not one this app made. */
export function decodeAlertAction(value: string | undefined): AlertActionValue | undefined {
  const v = parseJsonWith(alertActionSchema, value);
  return v ? { alertId: v.alertId, leadId: v.leadId } : undefined;
}

/** Tuning modals opened by `/lead thresholds` and `/lead weights`. */
export const TUNING_THRESHOLDS_MODAL = "tuning_thresholds_modal";
export const TUNING_WEIGHTS_MODAL = "tuning_weights_modal";
export const TUNING_MQL_BLOCK = "tuning_mql";
export const TUNING_MQL_ACTION = "tuning_mql_input";
export const TUNING_SQL_BLOCK = "tuning_sql";
export const TUNING_SQL_ACTION = "tuning_sql_input";
export const TUNING_HYSTERESIS_BLOCK = "tuning_hysteresis";
export const TUNING_HYSTERESIS_ACTION = "tuning_hysteresis_input";
/** One input per rule: block id is this prefix and the rule id; every input shares the action id. */
export const TUNING_WEIGHT_BLOCK_PREFIX = "tuning_w:";
export const TUNING_WEIGHT_ACTION = "tuning_weight_input";
/** Picks the rules to edit when a model has more rules than one modal can show. */
export const TUNING_RULE_PICKER_BLOCK = "tuning_rule_picker";
export const TUNING_RULE_PICKER_ACTION = "tuning_rule_picker_select";
export const TUNING_NOTE_BLOCK = "tuning_note";
export const TUNING_NOTE_ACTION = "tuning_note_input";
/** The impact preview at the foot of a tuning modal. */
export const TUNING_PREVIEW_BLOCK = "tuning_preview";
export const TUNING_PREVIEW_DETAIL_BLOCK = "tuning_preview_detail";
export const TUNING_PREVIEW_OUTCOMES_BLOCK = "tuning_preview_outcomes";

/** Block ids of a proposal message; each button's value is the proposal id. */
export const PROPOSAL_HEADER_BLOCK = "proposal_header";
export const PROPOSAL_DIFF_BLOCK = "proposal_diff";
export const PROPOSAL_IMPACT_BLOCK = "proposal_impact";
export const PROPOSAL_OUTCOMES_BLOCK = "proposal_outcomes";
export const PROPOSAL_BACKTEST_BLOCK = "proposal_backtest";
export const PROPOSAL_EVIDENCE_BLOCK = "proposal_evidence";
export const PROPOSAL_ACTIONS_BLOCK = "proposal_actions";
export const PROPOSAL_STATUS_BLOCK = "proposal_status";
/** The reason field of the reject modal (PROPOSAL_DECISION_MODAL). */
export const PROPOSAL_REASON_BLOCK = "proposal_reason";
export const PROPOSAL_REASON_ACTION = "proposal_reason_input";
/** Message metadata event type of a proposal post. */
export const PROPOSAL_METADATA_EVENT = "leadbot_proposal";

import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { StaleActionError } from "../../../services/errors.js";
import type { OutcomeResult } from "../../../services/team.js";
import { lostMetaSchema, parseLostSubmission } from "../../blocks/lost.js";
import type { SlackDeps } from "../../deps.js";
import { parseJsonWith } from "../../edge.js";
import { LOST_REASON_BLOCK } from "../../ids.js";
import { findAlert, updateAlertMessage } from "../alert-message.js";
import { formError } from "../respond.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/**
 * The Lost modal submitted: checks the input, records the outcome before acking (one short
 * transaction, so a failure can still be shown in the modal), then updates the alert message.
 */
export function lostReasonSubmitted(deps: SlackDeps) {
  return async ({ ack, view, body, client }: Args): Promise<void> => {
    const input = parseLostSubmission(view.state.values);
    if (!input.ok) {
      await ack({ response_action: "errors", errors: input.errors });
      return;
    }
    const meta = parseJsonWith(lostMetaSchema, view.private_metadata);
    if (!meta) {
      const stale = new StaleActionError(`Lost modal metadata: ${view.private_metadata}`);
      await ack({
        response_action: "errors",
        errors: { [LOST_REASON_BLOCK]: formError(deps, stale, "lost-reason") },
      });
      return;
    }
    let result: OutcomeResult;
    try {
      result = await deps.services.leads.recordOutcome({
        lead: meta.leadId,
        outcome: "lost",
        by: body.user.id,
        source: meta.from === "alert" ? "slack-alert" : "slack-command",
        alertId: meta.alertId,
        reason: input.reason,
        note: input.note,
      });
    } catch (err) {
      const message = formError(deps, err, "recording a lost outcome");
      await ack({ response_action: "errors", errors: { [LOST_REASON_BLOCK]: message } });
      return;
    }
    await ack();
    const alert = await findAlert(deps, { alertId: meta.alertId, leadId: meta.leadId });
    if (alert) {
      await updateAlertMessage(deps, client, alert, { kind: "resolved", outcome: result }, meta);
    }
  };
}

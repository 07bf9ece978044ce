import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { DomainError } from "../../../services/errors.js";
import type { OutcomeResult } from "../../../services/team.js";
import { lostMetaSchema, parseLostSubmission } from "../../blocks/lost.js";
import type { SlackDeps } from "../../deps.js";
import { LOST_REASON_BLOCK } from "../../ids.js";
import { findAlert, updateAlertMessage } from "../alert-message.js";

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
    const meta = lostMetaSchema.safeParse(safeJson(view.private_metadata));
    if (!meta.success) {
      deps.logger.error({ metadata: view.private_metadata }, "Lost modal metadata not understood");
      await ack({
        response_action: "errors",
        errors: { [LOST_REASON_BLOCK]: "This form is out of date. Close it and press Lost again." },
      });
      return;
    }
    let result: OutcomeResult;
    try {
      result = await deps.services.leads.recordOutcome({
        lead: meta.data.leadId,
        outcome: "lost",
        by: body.user.id,
        source: meta.data.from === "alert" ? "slack-alert" : "slack-command",
        alertId: meta.data.alertId,
        reason: input.reason,
        note: input.note,
      });
    } catch (err) {
      const message =
        err instanceof DomainError
          ? err.message
          : "Leadbot could not save this; try again in a moment.";
      if (!(err instanceof DomainError))
        deps.logger.error({ err }, "recording a lost outcome failed");
      await ack({ response_action: "errors", errors: { [LOST_REASON_BLOCK]: message } });
      return;
    }
    await ack();
    const alert = await findAlert(deps, { alertId: meta.data.alertId, leadId: meta.data.leadId });
    if (alert) {
      await updateAlertMessage(
        deps,
        client,
        alert,
        { kind: "resolved", outcome: result },
        meta.data,
      );
    }
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

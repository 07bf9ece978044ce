import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { recordOutcome } from "../../../services/team.js";
import type { SlackDeps } from "../../deps.js";
import { decodeAlertAction } from "../../ids.js";
import { findAlert, updateAlertMessage } from "../alert-message.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * Won and Not a fit on an alert: record the outcome (who, when, from which alert) and rewrite
 * the alert to say so. recordOutcome locks the lead and keeps one record of the same outcome, so
 * a double click or a repeated request records it once.
 */
export function alertOutcome(deps: SlackDeps, outcome: "won" | "not_a_fit") {
  return async ({ ack, action, body, client, respond }: Args): Promise<void> => {
    await ack();
    try {
      const ref = decodeAlertAction(action.value);
      if (!ref) throw new Error(`alert button value not understood: ${action.value}`);
      const result = await recordOutcome(deps.services.db, {
        lead: ref.leadId,
        outcome,
        by: body.user.id,
        source: "slack-alert",
        alertId: ref.alertId,
      });
      const alert = await findAlert(deps, ref);
      if (alert) {
        await updateAlertMessage(
          deps,
          client,
          alert,
          { kind: "resolved", outcome: result },
          {
            channel: body.channel?.id,
            ts: body.message?.ts,
          },
        );
      }
    } catch (err) {
      await reportError(deps, respond, err, `alert ${outcome}`);
    }
  };
}

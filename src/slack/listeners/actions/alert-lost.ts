import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { StaleActionError } from "../../../services/errors.js";
import { buildNotice } from "../../blocks/common.js";
import { leadName } from "../../blocks/leads.js";
import { buildLostModal } from "../../blocks/lost.js";
import type { SlackDeps } from "../../deps.js";
import { decodeAlertAction } from "../../ids.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Slack's answer when a modal is opened after the click's trigger expired (~3 s). */
const EXPIRED_TRIGGER = "expired_trigger_id";

/** Lost: asks why in a modal; the outcome is recorded when it is submitted. */
export function alertLost(deps: SlackDeps) {
  return async ({ ack, action, body, client, respond }: Args): Promise<void> => {
    await ack();
    try {
      const ref = decodeAlertAction(action.value);
      if (!ref) throw new StaleActionError(`alert button value not understood: ${action.value}`);
      const lead = await deps.services.alerts.lead(ref.leadId);
      const label = lead ? leadName({ ...lead, id: ref.leadId }) : `Lead #${ref.leadId}`;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: buildLostModal(
          {
            leadId: ref.leadId,
            alertId: ref.alertId,
            channel: body.channel?.id,
            ts: body.message?.ts,
          },
          label,
        ),
      });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if (code === EXPIRED_TRIGGER) {
        deps.logger.warn({ user: body.user.id }, "Lost modal opened too late (expired_trigger_id)");
        await respond({
          ...buildNotice(":hourglass: Slack took too long to open the form. Press *Lost* again."),
          replace_original: false,
        });
        return;
      }
      await reportError(deps, respond, err, "alert lost");
    }
  };
}

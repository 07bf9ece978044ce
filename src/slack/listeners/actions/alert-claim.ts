import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { assignLead } from "../../../services/team.js";
import type { SlackDeps } from "../../deps.js";
import { decodeAlertAction } from "../../ids.js";
import { findAlert, updateAlertMessage } from "../alert-message.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** Claim: the lead becomes the clicker's, unless someone else holds it (they are named). */
export function alertClaim(deps: SlackDeps) {
  return async ({ ack, action, body, client, respond }: Args): Promise<void> => {
    await ack();
    try {
      const ref = decodeAlertAction(action.value);
      if (!ref) throw new Error(`alert button value not understood: ${action.value}`);
      const user = body.user.id;
      await assignLead(deps.services.db, { lead: ref.leadId, owner: user, by: user, claim: true });
      const alert = await findAlert(deps, ref);
      if (alert) {
        await updateAlertMessage(
          deps,
          client,
          alert,
          { kind: "claimed", by: user },
          {
            channel: body.channel?.id,
            ts: body.message?.ts,
          },
        );
      }
    } catch (err) {
      await reportError(deps, respond, err, "alert claim");
    }
  };
}

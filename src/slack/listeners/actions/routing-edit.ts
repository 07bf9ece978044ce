import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { ForbiddenError } from "../../../services/errors.js";
import { buildRoutingModal } from "../../blocks/routing.js";
import type { SlackDeps } from "../../deps.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** "Edit rules" under `/lead routing`: the rules file in a modal, for admins. */
export function routingEdit(deps: SlackDeps) {
  return async ({ ack, body, client, respond }: Args): Promise<void> => {
    await ack();
    try {
      if ((await deps.services.team.roleOf(body.user.id)) !== "admin") {
        throw new ForbiddenError("Only admins change routing rules. Ask an admin.");
      }
      const { yaml } = await deps.services.routing.overview();
      await client.views.open({ trigger_id: body.trigger_id, view: buildRoutingModal(yaml) });
    } catch (err) {
      await reportError(deps, respond, err, "routing edit");
    }
  };
}

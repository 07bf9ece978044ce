import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import type { SlackDeps } from "../../deps.js";
import { openFindModal } from "../../find/open.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** "Find leads" on the App Home: the form, answered back in the Home tab. */
export function findOpen(deps: SlackDeps) {
  return async ({ ack, body, client }: Args): Promise<void> => {
    await ack();
    try {
      await openFindModal({
        deps,
        client,
        triggerId: body.trigger_id,
        userId: body.user.id,
        meta: { from: "home" },
      });
    } catch (err) {
      deps.logger.error({ err, user: body.user.id }, "opening the Find leads form failed");
    }
  };
}

import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import type { SlackDeps } from "../../deps.js";
import { publishHome } from "../events/app-home-opened.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

export function homeRefresh(deps: SlackDeps) {
  return async ({ ack, body, client }: Args): Promise<void> => {
    await ack();
    try {
      await publishHome(deps, client, body.user.id);
    } catch (err) {
      deps.logger.error({ err, user: body.user.id }, "home refresh failed");
    }
  };
}

import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { StaleActionError } from "../../../services/errors.js";
import { decodeListPage } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { answerPage } from "../commands/answers.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** "Next" under a long list: the next page replaces the current one. */
export function listPage(deps: SlackDeps) {
  return async ({ ack, action, respond }: Args): Promise<void> => {
    await ack();
    try {
      const page = decodeListPage(action.value);
      if (!page) throw new StaleActionError(`list page value not understood: ${action.value}`);
      await respond({ ...(await answerPage(deps, page)), replace_original: true });
    } catch (err) {
      await reportError(deps, respond, err, "list page");
    }
  };
}

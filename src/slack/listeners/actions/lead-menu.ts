import type {
  AllMiddlewareArgs,
  BlockAction,
  OverflowAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { StaleActionError } from "../../../services/errors.js";
import type { EphemeralMessage } from "../../blocks/common.js";
import { LEAD_SHOW, LEAD_WHY } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { answerWhy } from "../commands/answers.js";
import { respondShow } from "../commands/pictures.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<OverflowAction>> & AllMiddlewareArgs;

/** The menu beside a lead in a list: "Why this score" or "Show lead", as a new ephemeral answer. */
export function leadMenu(deps: SlackDeps) {
  return async ({ ack, action, respond, client }: Args): Promise<void> => {
    await ack();
    try {
      const [choice, id] = (action.selected_option?.value ?? "").split(":");
      if (!id || !/^\d+$/.test(id))
        throw new StaleActionError(
          `lead menu value not understood: ${action.selected_option?.value}`,
        );
      const send = (m: EphemeralMessage) => respond({ ...m, replace_original: false });
      if (choice === LEAD_WHY) await send(await answerWhy(deps, id));
      else if (choice === LEAD_SHOW) await respondShow(deps, client, send, id);
      else throw new StaleActionError(`lead menu choice not understood: ${choice}`);
    } catch (err) {
      await reportError(deps, respond, err, "lead menu");
    }
  };
}

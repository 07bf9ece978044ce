import type {
  AllMiddlewareArgs,
  BlockAction,
  OverflowAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { StaleActionError } from "../../../services/errors.js";
import { LEAD_SHOW, LEAD_WHY } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { answerWhy } from "../commands/answers.js";
import { answerShowWithSparkline } from "../commands/pictures.js";
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
      const answer =
        choice === LEAD_WHY
          ? await answerWhy(deps, id)
          : choice === LEAD_SHOW
            ? await answerShowWithSparkline(deps, client, id)
            : undefined;
      if (!answer) throw new StaleActionError(`lead menu choice not understood: ${choice}`);
      await respond({ ...answer, replace_original: false });
    } catch (err) {
      await reportError(deps, respond, err, "lead menu");
    }
  };
}

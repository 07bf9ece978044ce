import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { DomainError, StaleActionError } from "../../../services/errors.js";
import { context } from "../../blocks/common.js";
import { findMetaSchema, parseFindSubmission } from "../../blocks/find.js";
import { FIND_TEXT_BLOCK } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { parseJsonWith } from "../../edge.js";
import { answerPage } from "../commands/answers.js";
import { publishHome } from "../events/app-home-opened.js";
import { formError, INTERNAL_ERROR, slackText } from "../respond.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/** Leads a search from the form pages through: five pages of twenty. */
export const FIND_LIMIT = 100;

/**
 * The Find-leads form submitted: bad input is shown beside its field; otherwise ack, remember
 * (and maybe save) the filters, and answer where the form was opened.
 */
export function findSubmitted(deps: SlackDeps) {
  return async ({ ack, view, body, client }: Args): Promise<void> => {
    const user = body.user.id;
    const input = parseFindSubmission(view.state.values, user);
    if (!input.ok) {
      await ack({ response_action: "errors", errors: input.errors });
      return;
    }
    const meta = parseJsonWith(findMetaSchema, view.private_metadata);
    if (!meta) {
      const stale = new StaleActionError(`Find modal metadata: ${view.private_metadata}`);
      await ack({
        response_action: "errors",
        errors: { [FIND_TEXT_BLOCK]: formError(deps, stale, "find") },
      });
      return;
    }
    await ack();
    const { filters, saveAs } = input;
    try {
      await deps.services.views.remember(user, filters);
      if (saveAs) await deps.services.views.save(user, saveAs, filters);
      if (meta.from === "home") {
        await publishHome(deps, client, user, { filters, savedAs: saveAs });
        return;
      }
      const answer = await answerPage(deps, {
        q: "search",
        limit: FIND_LIMIT,
        offset: 0,
        filters,
      });
      const saved = saveAs
        ? [context(`Saved as view *${saveAs}*: \`/lead top 20 view:${saveAs}\` lists these again.`)]
        : [];
      await client.chat.postEphemeral({
        channel: meta.channel,
        user,
        text: answer.text,
        blocks: [...(answer.blocks ?? []), ...saved],
      });
    } catch (err) {
      deps.logger.error({ err, user }, "answering the Find leads form failed");
      if (meta.from === "channel") {
        const text = err instanceof DomainError ? `:warning: ${slackText(err)}` : INTERNAL_ERROR;
        await client.chat.postEphemeral({ channel: meta.channel, user, text }).catch(() => {});
      }
    }
  };
}

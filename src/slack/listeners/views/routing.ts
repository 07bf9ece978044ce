import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from "@slack/bolt";
import { z } from "zod";
import { inputAction, ROUTING_RULES_BLOCK } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { formError } from "../respond.js";

type Args = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const rulesInput = z.object({ value: z.string().nullish() });

/**
 * The routing rules modal submitted: the text is applied before the ack (one short
 * transaction), so a rule that does not validate, or a person who is not an admin, is told
 * beside the text and nothing changes.
 */
export function routingSubmitted(deps: SlackDeps) {
  return async ({ ack, view, body }: Args): Promise<void> => {
    const raw = rulesInput.safeParse(
      view.state.values[ROUTING_RULES_BLOCK]?.[inputAction(ROUTING_RULES_BLOCK)] ?? {},
    );
    const text = raw.success ? (raw.data.value ?? "") : "";
    try {
      await deps.services.routing.apply({ text, by: body.user.id });
    } catch (err) {
      await ack({
        response_action: "errors",
        errors: { [ROUTING_RULES_BLOCK]: formError(deps, err, "routing rules").slice(0, 2000) },
      });
      return;
    }
    await ack();
  };
}

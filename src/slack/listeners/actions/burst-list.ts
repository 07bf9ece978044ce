import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { BURST_PAGE_SIZE, buildBurstPage, decodeBurstPage } from "../../blocks/burst.js";
import type { SlackDeps } from "../../deps.js";
import { reportError } from "../respond.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * "List all" under a change's summary, and "Next" under a page of it: the clicker alone sees the
 * page; "Next" replaces the page it sits under, "List all" leaves the summary in place.
 */
export function burstList(deps: SlackDeps) {
  return async ({ ack, action, body, respond }: Args): Promise<void> => {
    await ack();
    try {
      const page = decodeBurstPage(action.value);
      if (!page) throw new Error(`burst page value not understood: ${action.value}`);
      const r = await deps.services.alerts.burstLeads({
        burstId: page.b,
        offset: page.o,
        limit: BURST_PAGE_SIZE,
      });
      // An ephemeral page has no channel message of its own; the summary's button does.
      const underSummary = body.container?.is_ephemeral !== true;
      await respond({
        ...buildBurstPage(r.burst, r.leads, r.offset, r.total),
        replace_original: !underSummary,
      });
    } catch (err) {
      await reportError(deps, respond, err, "list a model change's leads");
    }
  };
}

import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { leadFiltersSchema } from "../../../services/search.js";
import { decodeHomeFoundPage } from "../../blocks/ids.js";
import type { SlackDeps } from "../../deps.js";
import { publishHome } from "../events/app-home-opened.js";

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

type Search = NonNullable<Parameters<typeof publishHome>[3]>;

/** The search a page button names, or undefined when its value cannot be read. */
function searchOf(value: string | undefined): Search | undefined {
  const page = decodeHomeFoundPage(value);
  const filters = leadFiltersSchema.safeParse(page?.filters);
  if (!page || !filters.success) return undefined;
  return { filters: filters.data, offset: page.offset, savedAs: page.savedAs };
}

/**
 * "Previous" or "Next" under the leads a Home-tab search found: the Home tab is published again
 * with that page. A value it cannot read (an old or forged button) publishes the Home tab
 * without the search, so the person can search again; nothing else happens.
 */
export function homeFoundPage(deps: SlackDeps) {
  return async ({ ack, action, body, client }: Args): Promise<void> => {
    await ack();
    const user = body.user.id;
    try {
      const search = searchOf(action.value);
      if (!search) deps.logger.warn({ user }, "a Home page button's value was not understood");
      await publishHome(deps, client, user, search);
    } catch (err) {
      deps.logger.error({ err, user }, "paging the leads found on the Home tab failed");
    }
  };
}

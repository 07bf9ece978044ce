import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import type { LeadFilters } from "../../../services/search.js";
import { DEFAULT_PERIOD } from "../../../services/stats.js";
import { canApprove } from "../../../services/team.js";
import { describeFilters } from "../../blocks/find.js";
import { buildHome, HOME_FOUND, HOME_LIST } from "../../blocks/home.js";
import type { WebClient } from "../../client.js";
import type { SlackDeps } from "../../deps.js";

/** Everything one person's home tab shows, read fresh, then published. */
export async function publishHome(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
  /** A search made from the Home tab's Find leads form: a page of its results heads the tab. */
  search?: { filters: LeadFilters; savedAs?: string | undefined; offset?: number | undefined },
): Promise<void> {
  const s = deps.services;
  const role = await s.team.roleOf(userId);
  const [found, myTop, awaiting, proposals, counts, model, headline] = await Promise.all([
    // One more than a page: whether a "Next" page exists.
    search
      ? s.leads.search(search.filters, { limit: HOME_FOUND + 1, offset: search.offset ?? 0 })
      : Promise.resolve(undefined),
    s.leads.top({ limit: HOME_LIST, owner: userId }),
    s.alerts.awaitingFeedback(userId, HOME_LIST + 1),
    canApprove(role) ? s.proposals.pending() : Promise.resolve([]),
    s.leads.stageCounts(),
    s.models.active(),
    s.recentStats(DEFAULT_PERIOD),
  ]);
  const view = buildHome({
    userId,
    found:
      search && found
        ? {
            title: describeFilters(search.filters),
            filters: search.filters,
            leads: found.slice(0, HOME_FOUND),
            offset: search.offset ?? 0,
            more: found.length > HOME_FOUND,
            savedAs: search.savedAs,
          }
        : undefined,
    role,
    myTop,
    awaiting,
    proposals: proposals.map((p) => ({
      id: p.id,
      kind: p.kind,
      proposedBy: p.proposedBy,
      diff: Array.isArray(p.diff) ? p.diff.map(String) : [],
      createdAt: p.createdAt,
    })),
    counts,
    modelVersion: model.version,
    now: new Date(deps.clock()),
    headline,
  });
  await client.views.publish({ user_id: userId, view });
}

export function appHomeOpened(deps: SlackDeps) {
  return async ({
    event,
    client,
  }: SlackEventMiddlewareArgs<"app_home_opened"> & AllMiddlewareArgs) => {
    if (event.tab !== "home") return;
    try {
      await publishHome(deps, client, event.user);
    } catch (err) {
      deps.logger.error({ err, user: event.user }, "publishing the home tab failed");
    }
  };
}

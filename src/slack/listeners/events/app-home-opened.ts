import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { DEFAULT_PERIOD } from "../../../services/stats.js";
import { canApprove } from "../../../services/team.js";
import { buildHome, HOME_LIST } from "../../blocks/home.js";
import type { WebClient } from "../../client.js";
import type { SlackDeps } from "../../deps.js";

/** Everything one person's home tab shows, read fresh, then published. */
export async function publishHome(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
): Promise<void> {
  const s = deps.services;
  const role = await s.team.roleOf(userId);
  const [myTop, awaiting, proposals, counts, model, headline] = await Promise.all([
    s.leads.top({ limit: HOME_LIST, owner: userId }),
    s.alerts.awaitingFeedback(userId, HOME_LIST + 1),
    canApprove(role) ? s.proposals.pending() : Promise.resolve([]),
    s.leads.stageCounts(),
    s.models.active(),
    s.stats(DEFAULT_PERIOD),
  ]);
  const view = buildHome({
    userId,
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

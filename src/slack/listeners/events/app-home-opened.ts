import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { awaitingFeedback } from "../../../services/feedback.js";
import { stageCounts, topLeads } from "../../../services/leads.js";
import { activeModel } from "../../../services/models.js";
import { pendingProposals } from "../../../services/proposals.js";
import { canApprove, roleOf } from "../../../services/team.js";
import { buildHome, HOME_LIST } from "../../blocks/home.js";
import type { WebClient } from "../../client.js";
import type { SlackDeps } from "../../deps.js";

/** Everything one person's home tab shows, read fresh, then published. */
export async function publishHome(
  deps: SlackDeps,
  client: WebClient,
  userId: string,
): Promise<void> {
  const db = deps.services.db;
  const role = await roleOf(db, userId, deps.admins);
  const [myTop, awaiting, proposals, counts, model] = await Promise.all([
    topLeads(db, { limit: HOME_LIST, owner: userId }),
    awaitingFeedback(db, userId, HOME_LIST + 1),
    canApprove(role) ? pendingProposals(db) : Promise.resolve([]),
    stageCounts(db),
    activeModel(db),
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

import { buildFindModal, type FindMeta } from "../blocks/find.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";

/** Opens the Find-leads form pre-filled with the filters the person used last. */
export async function openFindModal(p: {
  deps: SlackDeps;
  client: WebClient;
  triggerId: string;
  userId: string;
  meta: FindMeta;
}): Promise<void> {
  const [last, views] = await Promise.all([
    p.deps.services.views.last(p.userId),
    p.deps.services.views.names(p.userId),
  ]);
  await p.client.views.open({
    trigger_id: p.triggerId,
    view: buildFindModal(p.meta, p.userId, last, views),
  });
}

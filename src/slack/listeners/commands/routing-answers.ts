import { buildNotice, type EphemeralMessage, mention } from "../../blocks/common.js";
import { buildRoutingOverview } from "../../blocks/routing.js";
import type { LeadCommand } from "../../commands/parse.js";
import type { SlackDeps } from "../../deps.js";
import { answerPage } from "./answers.js";

/** `/lead top N view:<name>`: the view's filters, with the stage and owner given here on top. */
export async function answerView(
  deps: SlackDeps,
  user: string,
  c: Extract<LeadCommand, { kind: "top" }>,
): Promise<EphemeralMessage> {
  const name = c.view ?? "";
  const saved = await deps.services.views.get(user, name);
  const filters = {
    ...saved,
    ...(c.stage !== "all" ? { stage: c.stage } : {}),
    ...(c.owner ? { owner: c.owner.kind === "mine" ? user : c.owner.userId } : {}),
  };
  await deps.services.views.remember(user, filters);
  return answerPage(deps, {
    q: "search",
    limit: c.limit,
    offset: 0,
    filters,
    title: `Top ${c.limit} of view ${name}`,
  });
}

/** `/lead routing`: the rules, this week's shares, and for admins the button that edits them. */
export async function answerRouting(deps: SlackDeps, user: string): Promise<EphemeralMessage> {
  const [overview, role] = await Promise.all([
    deps.services.routing.overview(),
    deps.services.team.roleOf(user),
  ]);
  return buildRoutingOverview(overview, role === "admin");
}

/** `/lead away until <day>` / `/lead away off`. */
export async function answerAway(
  deps: SlackDeps,
  user: string,
  until: string | null,
): Promise<EphemeralMessage> {
  // The person is back on that day: away until its first moment.
  const date = until ? new Date(`${until}T00:00:00Z`) : null;
  await deps.services.routing.setAway({ userId: user, until: date, by: user });
  return buildNotice(
    date
      ? `${mention(user)}, routing skips you until ${until}. \`/lead away off\` ends it early.`
      : `${mention(user)}, welcome back: routing includes you again.`,
  );
}

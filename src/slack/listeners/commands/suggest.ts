import type { AllMiddlewareArgs, RespondFn } from "@slack/bolt";
import { buildNotice, escapeMrkdwn } from "../../blocks/common.js";
import type { SlackDeps } from "../../deps.js";
import { announceProposal } from "../../tuning/messages.js";

/** Said at once: fitting on a large store takes seconds, more than a person waits silently. */
export const SUGGEST_WORKING =
  ":hourglass_flowing_sand: Working on it: learning a model from the recorded outcomes. The result follows here.";

const auc = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));

/**
 * `/lead suggest` after the ack: says it is working, fits and proposes a model as `user`, sends
 * the proposal to the managers as usual, and answers with the result or the data still missing.
 */
export async function answerSuggest(
  deps: SlackDeps,
  client: AllMiddlewareArgs["client"],
  respond: RespondFn,
  user: string,
): Promise<void> {
  await respond(buildNotice(SUGGEST_WORKING));
  const r = await deps.services.suggestions.suggest({ by: user });
  if (!r.ok) {
    const lead = r.code === "not_enough_data" ? "Not enough outcomes yet" : "Nothing to suggest";
    await respond(buildNotice(`:information_source: ${lead}: ${escapeMrkdwn(r.message)}`));
    return;
  }
  const { proposal } = r;
  if (!proposal) return;
  const notified = await announceProposal(deps, client, proposal.id);
  const { current, suggested } = r.learned.backtest;
  const to =
    notified.managers.length > 0
      ? `sent to ${notified.managers.length} manager${notified.managers.length === 1 ? "" : "s"} for approval`
      : "no manager is set up to approve it yet";
  await respond(
    buildNotice(
      `:bulb: Suggested model proposed as change #${proposal.id} (${to}): held-out AUC ${auc(suggested.auc)} vs ${auc(current.auc)} now, ${r.learned.evidence.length} rules.`,
    ),
  );
}

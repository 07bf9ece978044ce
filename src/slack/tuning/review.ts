import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  RespondFn,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from "@slack/bolt";
import { DomainError, StaleActionError } from "../../services/errors.js";
import type { DecisionResult } from "../../services/proposals.js";
import { buildNotice } from "../blocks/common.js";
import { buildReviewModal, type ReviewMeta, reviewMetaSchema } from "../blocks/tuning/index.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { parseJsonWith } from "../edge.js";
import { PROPOSAL_COMMENT_ACTION, PROPOSAL_COMMENT_BLOCK } from "../ids.js";
import { formError, reportError, slackText } from "../listeners/respond.js";
import { afterDecision, proposalIdOf } from "./decide.js";
import { proposalView } from "./messages.js";
import { slackErrorCode } from "./view-updates.js";

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;
type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

/**
 * Why `by` may not approve proposal `id` now, as the service says it: not a manager, their own,
 * decided already, or based on a version of its model that is no longer active. Checked when the
 * modal opens and again on submission; the decision itself checks once more, inside its transaction.
 */
function approvalRefusal(
  deps: SlackDeps,
  id: number,
  by: string,
): Promise<DomainError | undefined> {
  return deps.services.proposals.refusal({ id, by, decision: "approve" });
}

/** Answers the clicker: in the conversation of the message, or by DM from the App Home. */
async function answer(
  deps: SlackDeps,
  body: ButtonArgs["body"],
  client: WebClient,
  respond: RespondFn,
  text: string,
): Promise<void> {
  try {
    if (body.response_url) await respond({ ...buildNotice(text), replace_original: false });
    else await client.chat.postMessage({ channel: body.user.id, text });
  } catch (err) {
    deps.logger.warn({ err }, "could not answer the person who clicked");
  }
}

/**
 * Review: opens the modal with the whole diff, the impact and the backtest. Someone who may not
 * approve is told why at once, before reading it all; the modal is opened first thing after the
 * checks, since a trigger lives about 3 s.
 */
export function reviewClicked(deps: SlackDeps) {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const id = proposalIdOf(action.value);
    const by = body.user.id;
    if (id === undefined) {
      const stale = new StaleActionError(`review value: ${action.value}`);
      await reportError(deps, respond, stale, "review");
      return;
    }
    try {
      const refusal = await approvalRefusal(deps, id, by);
      if (refusal) {
        await answer(deps, body, client, respond, `:warning: ${slackText(refusal)}`);
        return;
      }
      const row = await deps.services.proposals.get(id);
      const view = buildReviewModal(proposalView(row), {
        proposalId: id,
        channel: body.channel?.id,
        ts: body.message?.ts,
      });
      await client.views.open({ trigger_id: body.trigger_id, view });
    } catch (err) {
      if (err instanceof DomainError) {
        await answer(deps, body, client, respond, `:warning: ${slackText(err)}`);
        return;
      }
      if (slackErrorCode(err) === "expired_trigger_id") {
        await answer(
          deps,
          body,
          client,
          respond,
          ":hourglass: Slack took too long to open the review. Press *Review* again.",
        );
        return;
      }
      deps.logger.error({ err, proposalId: id }, "opening the review modal failed");
      await answer(
        deps,
        body,
        client,
        respond,
        ":warning: Something went wrong on Leadbot's side; the app's log has the details. Try again in a moment.",
      );
    }
  };
}

/** Tells the approver, by DM, what became of an approval after its modal closed. */
async function dm(deps: SlackDeps, client: WebClient, user: string, text: string): Promise<void> {
  try {
    await client.chat.postMessage({ channel: user, text });
  } catch (err) {
    deps.logger.warn({ err, user }, "could not DM the approver");
  }
}

/**
 * The review modal submitted: approves. Who may decide is checked again now (a role can be taken
 * away, another manager can decide first, another change can be approved meanwhile), and a refusal
 * shows in the modal. The approval and the rescore run after the ack, since a rescore of a large
 * store takes longer than Slack waits; the decision re-checks everything in its transaction.
 */
export function reviewSubmitted(deps: SlackDeps) {
  return async ({ ack, body, view, client }: ViewArgs): Promise<void> => {
    const meta: ReviewMeta | undefined = parseJsonWith(reviewMetaSchema, view.private_metadata);
    if (!meta) {
      const stale = new StaleActionError("review modal metadata");
      await ack({
        response_action: "errors",
        errors: { [PROPOSAL_COMMENT_BLOCK]: formError(deps, stale, "review") },
      });
      return;
    }
    const by = body.user.id;
    const raw = view.state.values[PROPOSAL_COMMENT_BLOCK]?.[PROPOSAL_COMMENT_ACTION]?.value;
    const comment = raw?.trim() ? raw.trim().slice(0, 1000) : undefined;
    let refusal: DomainError | undefined;
    try {
      refusal = await approvalRefusal(deps, meta.proposalId, by);
    } catch (err) {
      await ack({
        response_action: "errors",
        errors: { [PROPOSAL_COMMENT_BLOCK]: formError(deps, err, "review") },
      });
      return;
    }
    if (refusal) {
      await ack({
        response_action: "errors",
        errors: { [PROPOSAL_COMMENT_BLOCK]: formError(deps, refusal, "review") },
      });
      return;
    }
    await ack();
    let result: DecisionResult;
    try {
      result = await deps.services.proposals.decide({
        id: meta.proposalId,
        by,
        decision: "approve",
        note: comment,
      });
    } catch (err) {
      if (err instanceof DomainError) {
        await dm(
          deps,
          client,
          by,
          `:warning: Change #${meta.proposalId} was not approved: ${slackText(err)}`,
        );
        return;
      }
      deps.logger.error({ err, proposalId: meta.proposalId }, "approving a proposal failed");
      const version = await deps.services.models.approvedBy(meta.proposalId).catch(() => undefined);
      if (version === undefined) {
        await dm(
          deps,
          client,
          by,
          `:warning: Change #${meta.proposalId} was not approved: something went wrong on Leadbot's side; the app's log has the details.`,
        );
        return;
      }
      await dm(
        deps,
        client,
        by,
        `:warning: Approved: model v${version} is active, but rescoring the leads failed (the app's log has the details). Run \`leadbot rescore\` to bring every score up to date.`,
      );
      result = { proposalId: meta.proposalId, status: "approved", version, changes: [] };
    }
    try {
      await afterDecision(deps, client, result, by, comment, {
        channel: meta.channel,
        ts: meta.ts,
      });
    } catch (err) {
      deps.logger.error({ err, proposalId: meta.proposalId }, "announcing an approval failed");
    }
  };
}

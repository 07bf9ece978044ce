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
import {
  buildRejectModal,
  type DecisionMeta,
  decisionMetaSchema,
  type ProposalDecision,
} from "../blocks/tuning/index.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { parseJsonWith } from "../edge.js";
import { PROPOSAL_REASON_ACTION, PROPOSAL_REASON_BLOCK } from "../ids.js";
import { formError, reportError, slackText } from "../listeners/respond.js";
import { announceModel, proposalView, tellProposer, updateProposalMessages } from "./messages.js";
import { slackErrorCode } from "./view-updates.js";

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;
type ViewArgs = SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs;

const INTERNAL =
  ":warning: Something went wrong on Leadbot's side; the app's log has the details. Try again in a moment.";

/** A proposal id from a button value; undefined when the value is not one this app made. */
export function proposalIdOf(value: string | undefined): number | undefined {
  if (!value || !/^\d{1,15}$/.test(value)) return undefined;
  const id = Number(value);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

async function say(deps: SlackDeps, respond: RespondFn, text: string): Promise<void> {
  try {
    await respond({ ...buildNotice(text), replace_original: false });
  } catch (err) {
    deps.logger.warn({ err }, "could not answer the person who clicked");
  }
}

/**
 * After a decision is recorded: rewrites the proposal's messages in place, tells the proposer,
 * and, for an approval, announces the new version in the alert channel.
 */
export async function afterDecision(
  deps: SlackDeps,
  client: WebClient,
  result: DecisionResult,
  by: string,
  reason: string | undefined,
  clicked?: { channel?: string | undefined; ts?: string | undefined },
): Promise<void> {
  const row = await deps.services.proposals.get(result.proposalId);
  const p = proposalView(row);
  const decision: ProposalDecision = {
    status: result.status,
    by,
    at: row.decidedAt ?? new Date(deps.clock()),
    version: result.version,
    reason: reason ?? row.decisionNote,
  };
  await updateProposalMessages(deps, client, p, decision, clicked);
  if (result.version !== undefined) {
    await announceModel(deps, client, {
      version: result.version,
      proposal: p,
      approvedBy: by,
      rescore: result.rescore,
      comment: reason ?? row.decisionNote,
    });
  }
  await tellProposer(deps, client, p, decision);
}

/**
 * Approve: decided at once (the service refuses non-managers, the proposer and a stale base, and
 * serialises concurrent clicks, so a double click records one decision). A refusal is a sentence
 * shown only to the clicker.
 */
export function approveClicked(deps: SlackDeps) {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const id = proposalIdOf(action.value);
    const by = body.user.id;
    if (id === undefined) {
      const stale = new StaleActionError(`approve button value: ${action.value}`);
      await reportError(deps, respond, stale, "approve");
      return;
    }
    let result: DecisionResult;
    try {
      result = await deps.services.proposals.decide({ id, by, decision: "approve" });
    } catch (err) {
      if (err instanceof DomainError) {
        await say(deps, respond, `:warning: ${slackText(err)}`);
        return;
      }
      deps.logger.error({ err, proposalId: id }, "approving a proposal failed");
      // The approval commits before the rescore: if only the rescore failed, the change is live.
      const version = await approvedVersion(deps, id, by);
      if (version === undefined) {
        await say(deps, respond, INTERNAL);
        return;
      }
      await say(
        deps,
        respond,
        `:warning: Approved: model v${version} is active, but rescoring the leads failed (the app's log has the details). Run \`leadbot rescore\` to bring every score up to date.`,
      );
      result = { proposalId: id, status: "approved", version, changes: [] };
    }
    try {
      await afterDecision(deps, client, result, by, undefined, {
        channel: body.channel?.id,
        ts: body.message?.ts,
      });
    } catch (err) {
      deps.logger.error({ err, proposalId: id }, "announcing an approval failed");
    }
  };
}

/** The version `by`'s approval of proposal `id` activated, when that approval is on record. */
async function approvedVersion(
  deps: SlackDeps,
  id: number,
  by: string,
): Promise<number | undefined> {
  try {
    const row = await deps.services.proposals.get(id);
    if (row.status !== "approved" || row.decidedBy !== by) return undefined;
    return await deps.services.models.approvedBy(id);
  } catch (err) {
    deps.logger.warn({ err, proposalId: id }, "could not read back an approval");
    return undefined;
  }
}

/**
 * Who may not reject `id`, said the way the service says it: checked before the reason modal
 * opens so nobody writes a reason only to be refused. The service checks again on submission.
 */
export function rejectRefusal(
  deps: SlackDeps,
  id: number,
  by: string,
): Promise<DomainError | undefined> {
  return deps.services.proposals.refusal({ id, by, decision: "reject" });
}

/** Reject: asks for a reason in a modal; the decision is made when it is submitted. */
export function rejectClicked(deps: SlackDeps) {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const id = proposalIdOf(action.value);
    const by = body.user.id;
    if (id === undefined) {
      const stale = new StaleActionError(`reject button value: ${action.value}`);
      await reportError(deps, respond, stale, "reject");
      return;
    }
    try {
      const refusal = await rejectRefusal(deps, id, by);
      if (refusal) {
        await say(deps, respond, `:warning: ${slackText(refusal)}`);
        return;
      }
      const row = await deps.services.proposals.get(id);
      // Where the click came from, so that message is updated even if its post was never recorded.
      const view = buildRejectModal(proposalView(row), {
        proposalId: id,
        channel: body.channel?.id,
        ts: body.message?.ts,
      });
      await client.views.open({ trigger_id: body.trigger_id, view });
    } catch (err) {
      if (err instanceof DomainError) {
        await say(deps, respond, `:warning: ${slackText(err)}`);
        return;
      }
      if (slackErrorCode(err) === "expired_trigger_id") {
        await say(
          deps,
          respond,
          ":hourglass: Slack took too long to open the form. Press *Reject* again.",
        );
        return;
      }
      deps.logger.error({ err, proposalId: id }, "opening the reject modal failed");
      await say(deps, respond, INTERNAL);
    }
  };
}

function readRejectMeta(raw: string): DecisionMeta | undefined {
  return parseJsonWith(decisionMetaSchema, raw);
}

/**
 * The reject modal submitted: the decision is made before the ack (one short transaction), so a
 * refusal (no longer a manager, already decided meanwhile) shows in the modal itself.
 */
export function rejectSubmitted(deps: SlackDeps) {
  return async ({ ack, body, view, client }: ViewArgs): Promise<void> => {
    const meta = readRejectMeta(view.private_metadata);
    if (!meta) {
      await ack({
        response_action: "errors",
        errors: {
          [PROPOSAL_REASON_BLOCK]: formError(
            deps,
            new StaleActionError("reject modal metadata"),
            "reject",
          ),
        },
      });
      return;
    }
    const by = body.user.id;
    const raw = view.state.values[PROPOSAL_REASON_BLOCK]?.[PROPOSAL_REASON_ACTION]?.value;
    const reason = raw?.trim() ? raw.trim().slice(0, 1000) : undefined;
    let result: DecisionResult;
    try {
      result = await deps.services.proposals.decide({
        id: meta.proposalId,
        by,
        decision: "reject",
        note: reason,
      });
    } catch (err) {
      const message = formError(deps, err, "reject");
      await ack({ response_action: "errors", errors: { [PROPOSAL_REASON_BLOCK]: message } });
      return;
    }
    await ack();
    try {
      await afterDecision(deps, client, result, by, reason, { channel: meta.channel, ts: meta.ts });
    } catch (err) {
      deps.logger.error({ err, proposalId: meta.proposalId }, "announcing a rejection failed");
    }
  };
}

import type { Impact } from "../../core/impact.js";
import type { ProposalMessage, ProposalRow } from "../../services/index.js";
import { escapeMrkdwn, mention, truncate } from "../blocks/common.js";
import {
  buildModelActivated,
  buildProposalDecided,
  buildProposalMessage,
  buildProposalSubmitted,
  MAX_REASON,
  type ProposalDecision,
  type ProposalView,
  type SlackMessage,
} from "../blocks/tuning/index.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { PROPOSAL_METADATA_EVENT } from "../ids.js";

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

export type Audience = ProposalMessage["audience"];

/** Where a proposal message was posted: kept by the proposals service to rewrite it later. */
export type PostedMessage = ProposalMessage;

/** A stored proposal as the builders take it. */
export function proposalView(row: ProposalRow): ProposalView {
  const changes = Array.isArray(row.diff)
    ? row.diff.filter((c): c is string => typeof c === "string")
    : [];
  return {
    id: row.id,
    kind: row.kind,
    proposedBy: row.proposedBy,
    baseVersion: row.baseVersion,
    changes,
    // Written by createProposal from measureImpact: trusted as that shape.
    impact: (row.impact as Impact | null) ?? null,
    note: row.note,
    createdAt: row.createdAt,
    modelKey: row.modelKey,
  };
}

async function post(
  deps: SlackDeps,
  client: WebClient,
  channel: string,
  message: SlackMessage,
  proposalId: number,
): Promise<{ channel: string; ts: string } | undefined> {
  try {
    const res = await client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      metadata: { event_type: PROPOSAL_METADATA_EVENT, event_payload: { proposal_id: proposalId } },
    });
    if (!res.ts || !res.channel) return undefined;
    return { channel: res.channel, ts: res.ts };
  } catch (err) {
    deps.logger.warn({ err, channel, proposalId }, "could not post a proposal message");
    return undefined;
  }
}

export interface Notified {
  managers: string[];
  posted: PostedMessage[];
}

/**
 * Sends a new proposal to every manager but its author (a DM with Approve and Reject), to the
 * alert channel, and to its author (their copy, without buttons), then records where each went.
 * A failed post is logged and skipped: the others still go out, and the proposal stays decidable.
 */
export async function notifyProposal(
  deps: SlackDeps,
  client: WebClient,
  p: ProposalView,
  managers: readonly string[],
): Promise<Notified> {
  const deciders = managers.filter((m) => m !== p.proposedBy);
  const message = buildProposalMessage(p);
  const posted: PostedMessage[] = [];
  for (const manager of deciders) {
    const ref = await post(deps, client, manager, message, p.id);
    if (ref) posted.push({ ...ref, audience: "manager", to: manager });
  }
  if (deps.alertChannel) {
    const ref = await post(deps, client, deps.alertChannel, message, p.id);
    if (ref) posted.push({ ...ref, audience: "channel" });
  }
  // A proposal by the app itself (the weekly suggestion) has no author to send a copy to.
  const own = SLACK_USER.test(p.proposedBy)
    ? await post(deps, client, p.proposedBy, buildProposalSubmitted(p, deciders), p.id)
    : undefined;
  if (own) posted.push({ ...own, audience: "proposer", to: p.proposedBy });
  await deps.services.proposals.recordMessages(p.id, posted);
  return { managers: deciders, posted };
}

/**
 * Rewrites every message of a decided proposal in place: who decided, when, and why. The
 * decision is already recorded, so a failed update is logged, not raised.
 */
export async function updateProposalMessages(
  deps: SlackDeps,
  client: WebClient,
  p: ProposalView,
  decision: ProposalDecision,
  clicked?: { channel?: string | undefined; ts?: string | undefined },
): Promise<number> {
  const refs = await deps.services.proposals.messages(p.id);
  const targets = new Map(refs.map((r) => [`${r.channel}/${r.ts}`, r]));
  if (clicked?.channel && clicked.ts && !targets.has(`${clicked.channel}/${clicked.ts}`)) {
    targets.set(`${clicked.channel}/${clicked.ts}`, {
      channel: clicked.channel,
      ts: clicked.ts,
      audience: "manager",
    });
  }
  const message = buildProposalDecided(p, decision);
  let updated = 0;
  for (const ref of targets.values()) {
    try {
      await client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks,
      });
      updated += 1;
    } catch (err) {
      deps.logger.warn(
        { err, proposalId: p.id, channel: ref.channel },
        "could not update a proposal message",
      );
    }
  }
  return updated;
}

/** Tells the author how their proposal was decided (their copy is edited, which notifies no one). */
export async function tellProposer(
  deps: SlackDeps,
  client: WebClient,
  p: ProposalView,
  decision: ProposalDecision,
): Promise<void> {
  const text =
    decision.status === "approved"
      ? `:white_check_mark: ${mention(decision.by)} approved your model change #${p.id}${decision.version !== undefined ? `: model v${decision.version} is active` : ""}.`
      : `:no_entry: ${mention(decision.by)} rejected your model change #${p.id}.${decision.reason ? ` Reason: ${escapeMrkdwn(truncate(decision.reason, MAX_REASON))}` : ""}`;
  try {
    await client.chat.postMessage({ channel: p.proposedBy, text });
  } catch (err) {
    deps.logger.warn({ err, proposalId: p.id }, "could not tell the proposer about the decision");
  }
}

/** Announces a newly active model in the alert channel. */
export async function announceModel(
  deps: SlackDeps,
  client: WebClient,
  a: Parameters<typeof buildModelActivated>[0],
): Promise<void> {
  if (!deps.alertChannel) return;
  const message = buildModelActivated(a);
  try {
    await client.chat.postMessage({
      channel: deps.alertChannel,
      text: message.text,
      blocks: message.blocks,
    });
  } catch (err) {
    deps.logger.warn({ err, version: a.version }, "could not announce the new model version");
  }
}

/**
 * Sends a proposal made outside the tuning modals (a learned suggestion) to the managers, the
 * alert channel and its author, with its backtest and evidence when it has them.
 */
export async function announceProposal(
  deps: SlackDeps,
  client: WebClient,
  proposalId: number,
): Promise<Notified> {
  const [row, learned, team] = await Promise.all([
    deps.services.proposals.get(proposalId),
    deps.services.suggestions.learned(proposalId),
    deps.services.team.managers(),
  ]);
  // The announcer may have posted it already: each proposal is posted once.
  if (!(await deps.services.proposals.claimAnnouncement(proposalId))) {
    return { managers: team.filter((m) => m !== row.proposedBy), posted: [] };
  }
  return notifyProposal(deps, client, { ...proposalView(row), learned }, team);
}

import { and, desc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Impact } from "../../core/impact.js";
import type { DbOrTx } from "../../db/client.js";
import { auditLog, type proposals } from "../../db/schema.js";
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

/**
 * Where a proposal was posted, so its messages can be rewritten in place once it is decided.
 * Kept as one audit row per proposal ("proposal.posted"): the audit log says who was asked, and
 * any app instance can find the messages again.
 */
export const POSTED_ACTION = "proposal.posted";
/** Audit actor of what the app does on its own. */
export const SYSTEM_ACTOR = "system";

export type Audience = "manager" | "channel" | "proposer";

export interface PostedMessage {
  channel: string;
  ts: string;
  audience: Audience;
  /** The user a DM went to. */
  to?: string | undefined;
}

const postedSchema = z.object({
  messages: z.array(
    z.object({
      channel: z.string(),
      ts: z.string(),
      audience: z.enum(["manager", "channel", "proposer"]),
      to: z.string().optional(),
    }),
  ),
});

type ProposalRow = typeof proposals.$inferSelect;

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
  };
}

function subject(id: number): string {
  return `proposal:${id}`;
}

export async function recordPosted(
  db: DbOrTx,
  proposalId: number,
  messages: PostedMessage[],
): Promise<void> {
  await db.insert(auditLog).values({
    actor: SYSTEM_ACTOR,
    action: POSTED_ACTION,
    subject: subject(proposalId),
    details: { messages },
  });
}

export async function postedMessages(db: DbOrTx, proposalId: number): Promise<PostedMessage[]> {
  const rows = await db
    .select({ details: auditLog.details })
    .from(auditLog)
    .where(and(eq(auditLog.action, POSTED_ACTION), eq(auditLog.subject, subject(proposalId))))
    .orderBy(desc(auditLog.id));
  return rows.flatMap((r) => {
    const parsed = postedSchema.safeParse(r.details);
    return parsed.success ? parsed.data.messages : [];
  });
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
  const own = await post(deps, client, p.proposedBy, buildProposalSubmitted(p, deciders), p.id);
  if (own) posted.push({ ...own, audience: "proposer", to: p.proposedBy });
  await recordPosted(deps.services.db, p.id, posted);
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
  const refs = await postedMessages(deps.services.db, p.id);
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

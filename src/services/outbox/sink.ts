import type { Stage } from "../../core/model.js";
import type { AlertLead } from "../../db/queries/alerts.js";
import type { BurstInfo, BurstLead } from "../../db/queries/bursts.js";
import type { Digest, Reminder } from "../digest.js";

export type { AlertLead, BurstInfo, BurstLead };

/**
 * The port between the outbox and whatever delivers its messages (Slack today; a webhook sink
 * next). Services hand a sink domain data, never a channel's own markup; the sink renders it.
 */

/** A lead crossed the MQL or SQL threshold: the row of `alert_outbox` it came from, and the lead. */
export interface StageAlertMessage {
  kind: "stage_alert";
  alertId: number;
  leadId: number;
  stage: Exclude<Stage, "lead">;
  lead: AlertLead;
  /** Set when the alert is rewritten after someone acted on it. */
  status?: StageAlertStatus | undefined;
}

export type StageAlertStatus =
  | {
      kind: "resolved";
      outcome: "won" | "lost" | "not_a_fit";
      /** Who gave the outcome (a user id; the sink decides how to show it). */
      by: string;
      at: Date;
      reason?: string | null | undefined;
    }
  | { kind: "claimed"; by: string };

/**
 * One change (model activation, rescore, import) moved more leads than LEADBOT_ALERT_BURST into
 * MQL or SQL: the channel gets this one message instead of an alert per lead.
 */
export interface BurstSummaryMessage {
  kind: "burst_summary";
  /** The row of `summary_outbox` it came from. */
  summaryId: number;
  burst: BurstInfo;
  /** The highest-scoring leads it moved. */
  top: BurstLead[];
}

/** The same change, told to one owner: the leads of theirs it moved. */
export interface BurstDigestMessage {
  kind: "burst_digest";
  summaryId: number;
  owner: string;
  burst: BurstInfo;
  leads: BurstLead[];
  /** Leads of theirs it moved beyond those listed. */
  more: number;
}

/**
 * A message about a lead that was erased, rewritten to say only that: a row of `erasure_outbox`,
 * which keeps where the message is and nothing about the person.
 */
export interface ErasureMessage {
  kind: "erasure";
  erasureId: number;
  /** When the lead was erased. */
  at: Date;
}

/**
 * Every kind of message the outbox carries. A new kind (summary, digest, erasure rewrite, webhook
 * event) is one more member here and one more `case` in each sink's switch on `kind`; `tsc`
 * points at every sink that does not handle it yet.
 */
export type OutgoingMessage =
  | StageAlertMessage
  | BurstSummaryMessage
  | BurstDigestMessage
  | DigestMessage
  | ReminderMessage
  | ErasureMessage;

/** The weekly digest; `id` is its `outbox_messages` row. */
export interface DigestMessage {
  kind: "digest";
  id: number;
  digest: Digest;
  /**
   * Whether the conversion-by-band chart was uploaded to the channel just before: the message
   * then points at it; otherwise it carries the bands as text.
   */
  chartUploaded?: boolean | undefined;
}

/** A daily reminder to an owner of their alerts without an outcome; `id` is its row. */
export interface ReminderMessage {
  kind: "reminder";
  id: number;
  reminder: Reminder;
}

export type MessageKind = OutgoingMessage["kind"];

/** What identifies one message across a crash: its kind and the id of the row it came from. */
export interface MessageKey {
  kind: MessageKind;
  id: number;
}

export function keyOf(msg: OutgoingMessage): MessageKey {
  switch (msg.kind) {
    case "stage_alert":
      return { kind: msg.kind, id: msg.alertId };
    case "burst_summary":
    case "burst_digest":
      return { kind: msg.kind, id: msg.summaryId };
    case "digest":
    case "reminder":
      return { kind: msg.kind, id: msg.id };
    case "erasure":
      return { kind: msg.kind, id: msg.erasureId };
  }
}

/** Where a delivered message lives, so it can be found again and rewritten. */
export interface PostedRef {
  channel: string;
  /** The sink's own id of the message (Slack: its ts). */
  id: string;
}

/** A file to deliver as its own message in a channel: a chart, rendered before it gets here. */
export interface OutgoingFile {
  bytes: Buffer;
  filename: string;
  title: string;
  /** What the picture shows, for screen readers. */
  altText: string;
  /** The line posted with the file. */
  comment?: string | undefined;
}

export interface NotificationSink {
  /** Delivers `msg` to `channel`, marked with its key so `findPosted` can find it again. */
  post(channel: string, msg: OutgoingMessage): Promise<PostedRef>;
  /** Rewrites a delivered message in place (an outcome, a claim, an erasure). */
  update(ref: PostedRef, msg: OutgoingMessage): Promise<void>;
  /** A message with `key` delivered to `channel` since `since`: reconciles a lost answer. */
  findPosted(channel: string, key: MessageKey, since: Date): Promise<PostedRef | undefined>;
  /** The channel id of a direct conversation with `userId`. */
  openDm(userId: string): Promise<string>;
  /**
   * Shares `file` in `channel`. A refusal no retry fixes (no permission to upload, uploads
   * disabled) is a permanent SinkError: callers deliver their text without the file then.
   */
  upload(channel: string, file: OutgoingFile): Promise<{ fileId: string }>;
}

export type SinkFailureKind = "rate_limited" | "transient" | "permanent";

/**
 * Why a sink could not deliver, sorted by what the dispatcher does about it: wait `retryAfterMs`
 * (rate_limited), back off and retry (transient), or give up after a few chances (permanent).
 */
export class SinkError extends Error {
  private constructor(
    readonly kind: SinkFailureKind,
    /** A short machine-readable reason, kept in the outbox row's last_error. */
    readonly detail: string,
    readonly retryAfterMs: number,
  ) {
    super(`${kind}: ${detail}`);
    this.name = "SinkError";
  }

  static rateLimited(retryAfterMs: number, detail = "rate_limited"): SinkError {
    return new SinkError("rate_limited", detail, Math.max(0, retryAfterMs));
  }

  static transient(detail: string): SinkError {
    return new SinkError("transient", detail, 0);
  }

  static permanent(detail: string): SinkError {
    return new SinkError("permanent", detail, 0);
  }
}

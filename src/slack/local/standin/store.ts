import { obj, type Params, str } from "./params.js";

/** What the stand-in remembers: channel messages, ephemerals, views and users, as Slack would. */

export interface StoredMessage {
  channel: string;
  ts: string;
  user: string;
  text: string;
  blocks?: unknown[] | undefined;
  metadata?: { event_type: string; event_payload: Params } | undefined;
  thread_ts?: string | undefined;
  edited?: { user: string; ts: string } | undefined;
  /** Files shared with the message (files.completeUploadExternal with a channel). */
  files?: { id: string; name: string; title: string }[] | undefined;
}

/** A file uploaded through files.getUploadURLExternal, the upload URL and completeUploadExternal. */
export interface StoredFile {
  id: string;
  name: string;
  title: string;
  altText?: string | undefined;
  /** The length announced to getUploadURLExternal. */
  length: number;
  /** The bytes sent to the upload URL; absent until then. */
  bytes?: Buffer | undefined;
  completed: boolean;
  /** Channels it was shared to. */
  channels: string[];
  /** Where it was saved, when the stand-in keeps files on disk. */
  path?: string | undefined;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks?: unknown[] | undefined;
}

export interface StoredView {
  id: string;
  hash: string;
  /** "modal" or "home". */
  type: string;
  /** Set for a published home tab. */
  user?: string | undefined;
  /** The view this one was pushed on top of. */
  previousViewId?: string | undefined;
  view: Params;
}

export interface StandinUser {
  id: string;
  name: string;
  real_name?: string;
  tz?: string;
  is_admin?: boolean;
  is_bot?: boolean;
  /** A guest (single- or multi-channel). */
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  /** A user of another workspace (Slack Connect); the stand-in's own team when absent. */
  team_id?: string;
  profile?: { email?: string; display_name?: string; real_name?: string };
}

/** The workspace and bot the stand-in plays. */
export interface Identity {
  teamId: string;
  botUserId: string;
  botId: string;
}

export class MessageStore {
  readonly ephemerals: EphemeralMessage[] = [];
  readonly views = new Map<string, StoredView>();
  readonly users = new Map<string, StandinUser>();
  readonly files = new Map<string, StoredFile>();
  private fileSeq = 0;
  private readonly channels = new Map<string, StoredMessage[]>();
  private lastTsMicros = 0;
  private viewSeq = 0;

  constructor(private readonly id: Identity) {}

  /** A file id, unique like Slack's (F…). */
  nextFileId(): string {
    this.fileSeq += 1;
    return `F${String(this.fileSeq).padStart(9, "0")}`;
  }

  /** A message timestamp, unique and increasing like Slack's. */
  nextTs(): string {
    const now = Date.now() * 1000;
    this.lastTsMicros = Math.max(now, this.lastTsMicros + 1);
    const s = Math.floor(this.lastTsMicros / 1e6);
    const us = this.lastTsMicros % 1e6;
    return `${s}.${String(us).padStart(6, "0")}`;
  }

  /** Messages of a channel, oldest first (the stored list itself; callers copy it). */
  channel(channel: string): StoredMessage[] | undefined {
    return this.channels.get(channel);
  }

  allMessages(): StoredMessage[] {
    return [...this.channels.values()].flat();
  }

  append(message: StoredMessage): void {
    const list = this.channels.get(message.channel) ?? [];
    list.push(message);
    this.channels.set(message.channel, list);
  }

  find(channel: string, ts: string): StoredMessage | undefined {
    return this.channels.get(channel)?.find((m) => m.ts === ts);
  }

  /** The DM channel id the stand-in gives a user (what `conversations.open` returns). */
  dmChannel(userId: string): string {
    return `D${userId.replace(/^[UW]/, "")}`;
  }

  channelOf(raw: string): string {
    // Posting to a user id posts in the bot's DM with that user, as Slack does.
    return /^[UW]/.test(raw) ? this.dmChannel(raw) : raw;
  }

  /** A message as the Web API returns it. */
  public(m: StoredMessage, withMetadata: boolean): Params {
    const out: Params = {
      type: "message",
      user: m.user,
      bot_id: this.id.botId,
      text: m.text,
      ts: m.ts,
      team: this.id.teamId,
    };
    if (m.blocks) out.blocks = m.blocks;
    if (m.thread_ts) out.thread_ts = m.thread_ts;
    if (m.edited) out.edited = m.edited;
    if (m.files) out.files = m.files;
    if (withMetadata && m.metadata) out.metadata = m.metadata;
    return out;
  }

  findViewByExternalId(externalId: string | undefined): string | undefined {
    if (!externalId) return undefined;
    return [...this.views.values()].find((v) => v.view.external_id === externalId)?.id;
  }

  /** Stores a view (new, or replacing `id`) and returns it as the Web API does. */
  storeView(view: Params, id: string | undefined, user?: string): Params {
    this.viewSeq += 1;
    const viewId = id ?? `V${String(this.viewSeq).padStart(9, "0")}`;
    const stored: StoredView = {
      id: viewId,
      hash: `${Date.now()}.${this.viewSeq}`,
      type: str(view.type) ?? "modal",
      user,
      view,
    };
    this.views.set(viewId, stored);
    return {
      ...view,
      id: viewId,
      team_id: this.id.teamId,
      app_id: "A0LEADBOT",
      bot_id: this.id.botId,
      hash: stored.hash,
      state: { values: {} },
      private_metadata: str(view.private_metadata) ?? "",
      callback_id: str(view.callback_id) ?? "",
    };
  }

  /** Forgets messages, ephemerals and views (users stay, as in the workspace). */
  clear(): void {
    this.ephemerals.length = 0;
    this.views.clear();
    this.files.clear();
    this.channels.clear();
  }
}

export function metadataOf(v: unknown): StoredMessage["metadata"] {
  const m = obj(v);
  if (!m || typeof m.event_type !== "string") return undefined;
  return { event_type: m.event_type, event_payload: obj(m.event_payload) ?? {} };
}

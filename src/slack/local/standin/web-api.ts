import { arr, bool, obj, type Params, str } from "./params.js";
import {
  type Identity,
  type MessageStore,
  metadataOf,
  type StoredFile,
  type StoredMessage,
} from "./store.js";

/** The Web API methods Leadbot calls, answered with the shapes and error codes Slack gives. */

export interface WebApiContext extends Identity {
  store: MessageStore;
  origin: string;
  /** When set, any other bearer token gets `invalid_auth`. */
  token: string | undefined;
  /** `apps.connections.open`, answered by Socket Mode. */
  openConnection(token: string): Params;
  /** Called once an upload is completed: the stand-in saves the file where it keeps files. */
  fileCompleted(file: StoredFile): void;
}

/** Slack's cap on one upload; a chart is a few tens of kilobytes. */
const MAX_FILE_BYTES = 1024 * 1024 * 1024;

export function respond(
  ctx: WebApiContext,
  method: string,
  p: Params,
  token: string | undefined,
): Params {
  const { store } = ctx;
  if (!token) return { ok: false, error: "not_authed" };
  // App-level tokens open Socket Mode connections and nothing else; bot tokens cannot.
  if (method === "apps.connections.open") return ctx.openConnection(token);
  if (token.startsWith("xapp-")) return { ok: false, error: "not_allowed_token_type" };
  if (ctx.token && token !== ctx.token) return { ok: false, error: "invalid_auth" };
  switch (method) {
    case "auth.test":
      return {
        ok: true,
        url: "https://leadbot-local.slack.com/",
        team: "Leadbot Local",
        user: "leadbot",
        team_id: ctx.teamId,
        user_id: ctx.botUserId,
        bot_id: ctx.botId,
        is_enterprise_install: false,
      };
    case "chat.postMessage":
      return postMessage(ctx, p);
    case "chat.update":
      return update(ctx, p);
    case "chat.postEphemeral": {
      const channel = str(p.channel);
      const user = str(p.user);
      if (!channel) return { ok: false, error: "channel_not_found" };
      if (!user) return { ok: false, error: "user_not_found" };
      const message_ts = store.nextTs();
      store.ephemerals.push({
        channel,
        user,
        message_ts,
        text: str(p.text) ?? "",
        blocks: arr(p.blocks),
      });
      return { ok: true, message_ts };
    }
    case "chat.getPermalink": {
      const channel = str(p.channel);
      const ts = str(p.message_ts);
      if (!channel || !ts) return { ok: false, error: "invalid_arguments" };
      if (!store.find(channel, ts)) return { ok: false, error: "message_not_found" };
      return {
        ok: true,
        channel,
        permalink: `${ctx.origin}/archives/${channel}/p${ts.replace(".", "")}`,
      };
    }
    case "conversations.history":
      return history(store, p);
    case "conversations.open": {
      const users = str(p.users)?.split(",").filter(Boolean) ?? [];
      const first = users[0];
      if (!first) return { ok: false, error: "users_list_not_supplied" };
      const id = store.dmChannel(first);
      return { ok: true, channel: { id, is_im: true, user: first } };
    }
    case "views.open":
    case "views.push": {
      if (!str(p.trigger_id)) return { ok: false, error: "invalid_trigger_id" };
      const view = obj(p.view);
      if (!view) return { ok: false, error: "invalid_arguments" };
      return { ok: true, view: store.storeView(view, undefined) };
    }
    case "views.update": {
      const id = str(p.view_id) ?? store.findViewByExternalId(str(p.external_id));
      const view = obj(p.view);
      const current = id ? store.views.get(id) : undefined;
      if (!current) return { ok: false, error: "not_found" };
      if (!view) return { ok: false, error: "invalid_arguments" };
      const hash = str(p.hash);
      if (hash && hash !== current.hash) return { ok: false, error: "hash_conflict" };
      return { ok: true, view: store.storeView(view, current.id, current.user) };
    }
    case "views.publish": {
      const user = str(p.user_id);
      const view = obj(p.view);
      if (!user) return { ok: false, error: "invalid_arguments" };
      if (!view) return { ok: false, error: "invalid_arguments" };
      const existing = [...store.views.values()].find((v) => v.type === "home" && v.user === user);
      return { ok: true, view: store.storeView(view, existing?.id, user) };
    }
    case "files.getUploadURLExternal": {
      const filename = str(p.filename);
      const length = Number(str(p.length) ?? p.length);
      if (!filename) return { ok: false, error: "invalid_arguments" };
      if (!Number.isInteger(length) || length <= 0)
        return { ok: false, error: "invalid_arguments" };
      if (length > MAX_FILE_BYTES) return { ok: false, error: "file_too_large" };
      const id = store.nextFileId();
      store.files.set(id, {
        id,
        name: filename,
        title: filename,
        altText: str(p.alt_text),
        length,
        completed: false,
        channels: [],
      });
      return { ok: true, upload_url: `${ctx.origin}/upload/${id}`, file_id: id };
    }
    case "files.completeUploadExternal":
      return completeUpload(ctx, p);
    case "users.info": {
      const id = str(p.user);
      if (!id) return { ok: false, error: "user_not_found" };
      const user = store.users.get(id) ?? {
        id,
        name: id.toLowerCase(),
        real_name: `User ${id}`,
        tz: "UTC",
        is_admin: false,
        is_bot: false,
        profile: { display_name: id.toLowerCase(), real_name: `User ${id}` },
      };
      return { ok: true, user: { team_id: ctx.teamId, deleted: false, ...user } };
    }
    default:
      return { ok: false, error: "unknown_method" };
  }
}

function postMessage(ctx: WebApiContext, p: Params): Params {
  const { store } = ctx;
  const target = str(p.channel);
  if (!target) return { ok: false, error: "channel_not_found" };
  const text = str(p.text) ?? "";
  const blocks = arr(p.blocks);
  if (!text && !blocks) return { ok: false, error: "no_text" };
  if (blocks && blocks.length > 50) return { ok: false, error: "invalid_blocks" };
  const channel = store.channelOf(target);
  const message: StoredMessage = {
    channel,
    ts: store.nextTs(),
    user: ctx.botUserId,
    text,
    blocks,
    metadata: metadataOf(p.metadata),
    thread_ts: str(p.thread_ts),
  };
  store.append(message);
  return { ok: true, channel, ts: message.ts, message: store.public(message, true) };
}

function update(ctx: WebApiContext, p: Params): Params {
  const { store } = ctx;
  const channel = str(p.channel);
  const ts = str(p.ts);
  if (!channel || !ts) return { ok: false, error: "invalid_arguments" };
  const message = store.find(store.channelOf(channel), ts);
  if (!message) return { ok: false, error: "message_not_found" };
  if (p.text !== undefined) message.text = str(p.text) ?? "";
  if (p.blocks !== undefined) message.blocks = arr(p.blocks);
  if (p.metadata !== undefined) message.metadata = metadataOf(p.metadata);
  message.edited = { user: ctx.botUserId, ts: store.nextTs() };
  return {
    ok: true,
    channel: message.channel,
    ts,
    text: message.text,
    message: store.public(message, true),
  };
}

function history(store: MessageStore, p: Params): Params {
  const channel = str(p.channel);
  if (!channel) return { ok: false, error: "channel_not_found" };
  const all = store.channel(channel);
  if (!all) return { ok: true, messages: [], has_more: false, pin_count: 0 };
  const oldest = Number(str(p.oldest) ?? "0");
  const latest = p.latest === undefined ? Number.POSITIVE_INFINITY : Number(str(p.latest));
  const inclusive = bool(p.inclusive);
  const withMeta = bool(p.include_all_metadata);
  const limit = Math.min(Math.max(Number(str(p.limit) ?? "100") || 100, 1), 999);
  const offset = Number(str(p.cursor) ?? "0") || 0;
  const inRange = all
    .filter((m) => {
      const t = Number(m.ts);
      return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
    })
    .reverse();
  const page = inRange.slice(offset, offset + limit);
  const hasMore = offset + limit < inRange.length;
  return {
    ok: true,
    messages: page.map((m) => store.public(m, withMeta)),
    has_more: hasMore,
    pin_count: 0,
    response_metadata: { next_cursor: hasMore ? String(offset + limit) : "" },
  };
}

function completeUpload(ctx: WebApiContext, p: Params): Params {
  const { store } = ctx;
  const list = Array.isArray(p.files) ? p.files : undefined;
  if (!list || list.length === 0) return { ok: false, error: "invalid_arguments" };
  const files: StoredFile[] = [];
  for (const entry of list) {
    const e = obj(entry);
    const file = e ? store.files.get(str(e.id) ?? "") : undefined;
    if (!file) return { ok: false, error: "file_not_found" };
    // Slack completes only what was sent to the upload URL, with the length announced.
    if (!file.bytes || file.bytes.length !== file.length)
      return { ok: false, error: "file_upload_size_mismatch" };
    files.push(file);
    const title = e ? str(e.title) : undefined;
    if (title) file.title = title;
  }
  const target = str(p.channel_id) ?? str(p.channels);
  const channel = target ? store.channelOf(target) : undefined;
  for (const file of files) {
    file.completed = true;
    if (channel && !file.channels.includes(channel)) file.channels.push(channel);
    ctx.fileCompleted(file);
  }
  if (channel) {
    store.append({
      channel,
      ts: store.nextTs(),
      user: ctx.botUserId,
      text: str(p.initial_comment) ?? "",
      files: files.map((f) => ({ id: f.id, name: f.name, title: f.title })),
      thread_ts: str(p.thread_ts),
    });
  }
  return {
    ok: true,
    files: files.map((f) => ({
      id: f.id,
      name: f.name,
      title: f.title,
      mimetype: f.name.endsWith(".png") ? "image/png" : "application/octet-stream",
      size: f.length,
      url_private: `${ctx.origin}/files/${f.id}/${encodeURIComponent(f.name)}`,
      channels: f.channels,
    })),
  };
}

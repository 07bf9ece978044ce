import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";

/**
 * A local stand-in for the Slack Web API: the methods Leadbot calls, over real HTTP, with the
 * response shapes Slack gives. Local mode points the app at it, and tests use it to observe every
 * call and to make Slack fail on purpose (rate limits, 5xx, platform errors, hangs, outages).
 * It also speaks Socket Mode: `apps.connections.open` hands out a WebSocket URL on this server,
 * and `deliver()` sends an envelope down it and resolves with the app's ack.
 */

export type FailSpec =
  | { status: 429; retryAfter: number }
  | { status: number }
  | { error: string }
  | { hangMs: number };

export type Params = Record<string, unknown>;

export interface StandinCall {
  method: string;
  params: Params;
  token: string | undefined;
  at: number;
  /** The injected failure this call met, if any. */
  failed?: FailSpec | undefined;
  /** The JSON answered (absent for injected HTTP errors). */
  response?: Params | undefined;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  user: string;
  text: string;
  blocks?: unknown[] | undefined;
  metadata?: { event_type: string; event_payload: Params } | undefined;
  thread_ts?: string | undefined;
  edited?: { user: string; ts: string } | undefined;
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

export interface ResponseUrlPost {
  id: string;
  payload: Params;
  at: number;
}

export interface StandinUser {
  id: string;
  name: string;
  real_name?: string;
  tz?: string;
  is_admin?: boolean;
  is_bot?: boolean;
  profile?: { email?: string; display_name?: string; real_name?: string };
}

export interface StandinOptions {
  port?: number;
  host?: string;
  /** When set, any other bearer token gets `invalid_auth`. */
  token?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
}

/** What Slack sends over a Socket Mode connection besides `hello` and `disconnect`. */
export type EnvelopeType = "slash_commands" | "interactive" | "events_api";

export interface DeliverOptions {
  /** Events API redelivery, as Slack marks it (`retry_attempt`, `retry_reason`). */
  retryAttempt?: number;
  retryReason?: string;
  /** How long to wait for the ack before rejecting (default 10 s; Slack itself gives up at 3 s). */
  timeoutMs?: number;
}

export interface SocketAck {
  envelope_id: string;
  /** What the app answered in its ack (`{}` for an empty ack). */
  payload?: Params | undefined;
  at: number;
}

interface SocketLink {
  id: number;
  ws: WebSocket;
}

interface PendingAck {
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface FailWindow {
  method: string;
  until: number;
  spec: FailSpec;
}

/** Fields Slack accepts as JSON strings in a form body. */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata", "view", "unfurls"]);

export class SlackStandin extends EventEmitter {
  readonly calls: StandinCall[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly views = new Map<string, StoredView>();
  readonly responsePosts: ResponseUrlPost[] = [];
  readonly users = new Map<string, StandinUser>();
  /** Every Socket Mode ack received, oldest first. */
  readonly socketAcks: SocketAck[] = [];
  /** Base URL of the Web API, ending in `/api/` (what `slackApiUrl` takes). */
  readonly url: string;
  readonly origin: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;

  private readonly server: Server;
  private readonly token: string | undefined;
  private readonly channels = new Map<string, StoredMessage[]>();
  private readonly failQueue = new Map<string, FailSpec[]>();
  private readonly failWindows: FailWindow[] = [];
  private lastTsMicros = 0;
  private viewSeq = 0;
  private readonly pending = new Set<ServerResponse>();
  /** Socket Mode: tickets handed out by apps.connections.open and not used yet. */
  private readonly tickets = new Set<string>();
  private readonly links: SocketLink[] = [];
  private readonly awaitingAck = new Map<string, PendingAck>();
  private wss: Promise<WebSocketServer> | undefined;
  private linkSeq = 0;
  private envelopeSeq = 0;

  private constructor(server: Server, origin: string, opts: StandinOptions) {
    super();
    this.server = server;
    this.origin = origin;
    this.url = `${origin}/api/`;
    this.token = opts.token;
    this.teamId = opts.teamId ?? "T0LOCAL01";
    this.botUserId = opts.botUserId ?? "U0LEADBOT";
    this.botId = opts.botId ?? "B0LEADBOT";
  }

  static async start(opts: StandinOptions = {}): Promise<SlackStandin> {
    let standin: SlackStandin | undefined;
    const server = createServer((req, res) => {
      if (!standin) {
        res.writeHead(503).end();
        return;
      }
      standin.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
    });
    const host = opts.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    const started = new SlackStandin(server, `http://${host}:${port}`, opts);
    server.on("upgrade", (req, socket, head) => started.upgrade(req, socket, head));
    standin = started;
    return started;
  }

  /** Calls made to one method, in order (including those that met an injected failure). */
  callsTo(method: string): StandinCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages of a channel, oldest first. */
  messages(channel: string): StoredMessage[] {
    return [...(this.channels.get(channel) ?? [])];
  }

  /** Every channel that holds messages, with its messages. */
  allMessages(): StoredMessage[] {
    return [...this.channels.values()].flat();
  }

  /** The DM channel id the stand-in gives a user (what `conversations.open` returns). */
  dmChannel(userId: string): string {
    return `D${userId.replace(/^[UW]/, "")}`;
  }

  /** A URL on this server that records what is posted to it, like Slack's `response_url`. */
  responseUrl(id: string): string {
    return `${this.origin}/response/${encodeURIComponent(id)}`;
  }

  /** What was posted to `responseUrl(id)`, oldest first. */
  responses(id: string): ResponseUrlPost[] {
    return this.responsePosts.filter((r) => r.id === id);
  }

  /** The first post to `responseUrl(id)`: already made, or the next one (apps answer after ack). */
  waitForResponse(id: string): Promise<ResponseUrlPost> {
    const seen = this.responsePosts.find((r) => r.id === id);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const onPost = (post: ResponseUrlPost) => {
        if (post.id !== id) return;
        this.off("response", onPost);
        resolve(post);
      };
      this.on("response", onPost);
    });
  }

  /** The next call to `method` that the stand-in finishes answering. */
  waitForCall(method: string): Promise<StandinCall> {
    return new Promise((resolve) => {
      const onCall = (call: StandinCall) => {
        if (call.method !== method) return;
        this.off("call", onCall);
        resolve(call);
      };
      this.on("call", onCall);
    });
  }

  addUser(user: StandinUser): void {
    this.users.set(user.id, user);
  }

  /** The next `times` calls to `method` ("*" for any) fail as described. */
  failNext(method: string, spec: FailSpec, times = 1): void {
    const queue = this.failQueue.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(spec);
    this.failQueue.set(method, queue);
  }

  /** Every call to `method` ("*" for any) fails as described for the next `ms` milliseconds. */
  failFor(method: string, ms: number, spec: FailSpec = { status: 503 }): void {
    this.failWindows.push({ method, until: Date.now() + ms, spec });
  }

  /** Ends injected failures, queued and timed. */
  recover(): void {
    this.failQueue.clear();
    this.failWindows.length = 0;
  }

  /** Socket Mode connections open now: they got `hello`, and no side has started closing them. */
  get socketConnections(): number {
    return this.openLinks().length;
  }

  /** Resolves once a Socket Mode connection is open: now, or when the next one opens. */
  waitForSocket(): Promise<void> {
    if (this.openLinks().length > 0) return Promise.resolve();
    return new Promise((resolve) => this.once("socket_open", () => resolve()));
  }

  /** Resolves once no Socket Mode connection is open (the app hung up). */
  waitForSocketsClosed(): Promise<void> {
    if (this.openLinks().length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const onClose = () => {
        if (this.openLinks().length > 0) return;
        this.off("socket_close", onClose);
        resolve();
      };
      this.on("socket_close", onClose);
    });
  }

  /**
   * Sends an envelope over the newest Socket Mode connection, as Slack does for a slash command
   * (`slash_commands`, payload = the command's fields), a click or submission (`interactive`,
   * payload = the interaction) or an event (`events_api`, payload = the event callback), and
   * resolves with the payload of the app's ack.
   */
  async deliver(
    type: EnvelopeType,
    payload: Params,
    opts: DeliverOptions = {},
  ): Promise<Params | undefined> {
    const link = this.openLinks().at(-1);
    if (!link)
      throw new Error("no Socket Mode connection is open: start the app with an xapp- token");
    this.envelopeSeq += 1;
    const envelopeId = `${randomBytes(4).toString("hex")}-${this.envelopeSeq}`;
    const envelope: Params = {
      envelope_id: envelopeId,
      type,
      payload,
      // Slack takes a response in the ack for commands and interactions, not for events.
      accepts_response_payload: type !== "events_api",
    };
    if (type === "events_api") {
      envelope.retry_attempt = opts.retryAttempt ?? 0;
      envelope.retry_reason = opts.retryReason ?? "";
    }
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const acked = new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.awaitingAck.delete(envelopeId);
        reject(new Error(`no ack for ${type} envelope ${envelopeId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.awaitingAck.set(envelopeId, { resolve, reject, timer });
    });
    link.ws.send(JSON.stringify(envelope));
    return (await acked).payload;
  }

  /** Sends Slack's `disconnect` message on every connection (the app is expected to reconnect). */
  disconnectSockets(reason: "warning" | "refresh_requested" | "link_disabled"): void {
    for (const link of this.openLinks()) {
      link.ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "standin" } }));
    }
  }

  /** Forgets calls, messages, views and failures. */
  reset(): void {
    this.socketAcks.length = 0;
    this.calls.length = 0;
    this.ephemerals.length = 0;
    this.responsePosts.length = 0;
    this.views.clear();
    this.channels.clear();
    this.recover();
  }

  async close(): Promise<void> {
    for (const res of this.pending) res.destroy();
    // Upgraded sockets are no longer the HTTP server's: end them here.
    for (const link of [...this.links]) link.ws.terminate();
    for (const [id, waiting] of this.awaitingAck) {
      clearTimeout(waiting.timer);
      waiting.reject(new Error(`the stand-in closed before envelope ${id} was acked`));
    }
    this.awaitingAck.clear();
    await this.wss?.then(
      (wss) => wss.close(),
      () => undefined,
    );
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private nextTs(): string {
    const now = Date.now() * 1000;
    this.lastTsMicros = Math.max(now, this.lastTsMicros + 1);
    const s = Math.floor(this.lastTsMicros / 1e6);
    const us = this.lastTsMicros % 1e6;
    return `${s}.${String(us).padStart(6, "0")}`;
  }

  private takeFailure(method: string): FailSpec | undefined {
    const now = Date.now();
    for (const key of [method, "*"]) {
      const queue = this.failQueue.get(key);
      const spec = queue?.shift();
      if (spec) return spec;
    }
    return this.failWindows.find((w) => w.until > now && (w.method === method || w.method === "*"))
      ?.spec;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = await readBody(req);
    if (url.pathname.startsWith("/response/")) {
      const id = decodeURIComponent(url.pathname.slice("/response/".length));
      const payload = parseBody(raw, req.headers["content-type"]);
      const post: ResponseUrlPost = { id, payload, at: Date.now() };
      this.responsePosts.push(post);
      this.emit("response", post);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      return;
    }
    if (!url.pathname.startsWith("/api/")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const method = url.pathname.slice("/api/".length);
    const params: Params = {
      ...Object.fromEntries(url.searchParams),
      ...parseBody(raw, req.headers["content-type"]),
    };
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ")
      ? auth.slice("Bearer ".length)
      : typeof params.token === "string"
        ? params.token
        : undefined;
    delete params.token;
    const call: StandinCall = { method, params, token, at: Date.now() };
    this.calls.push(call);

    const failure = this.takeFailure(method);
    call.failed = failure;
    if (failure && "hangMs" in failure) {
      this.pending.add(res);
      await new Promise((r) => setTimeout(r, failure.hangMs));
      this.pending.delete(res);
      if (res.destroyed) {
        // The client gave up; Slack would still have done the work.
        this.respond(method, params, token);
        this.emit("call", call);
        return;
      }
    } else if (failure && "status" in failure) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if ("retryAfter" in failure) headers["retry-after"] = String(failure.retryAfter);
      const error = failure.status === 429 ? "ratelimited" : "internal_error";
      res.writeHead(failure.status, headers).end(JSON.stringify({ ok: false, error }));
      this.emit("call", call);
      return;
    } else if (failure && "error" in failure) {
      call.response = { ok: false, error: failure.error };
      send(res, call.response);
      this.emit("call", call);
      return;
    }
    call.response = this.respond(method, params, token);
    send(res, call.response);
    this.emit("call", call);
  }

  private respond(method: string, p: Params, token: string | undefined): Params {
    if (!token) return { ok: false, error: "not_authed" };
    // App-level tokens open Socket Mode connections and nothing else; bot tokens cannot.
    if (method === "apps.connections.open") return this.openConnection(token);
    if (token.startsWith("xapp-")) return { ok: false, error: "not_allowed_token_type" };
    if (this.token && token !== this.token) return { ok: false, error: "invalid_auth" };
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://leadbot-local.slack.com/",
          team: "Leadbot Local",
          user: "leadbot",
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        };
      case "chat.postMessage":
        return this.postMessage(p);
      case "chat.update":
        return this.update(p);
      case "chat.postEphemeral": {
        const channel = str(p.channel);
        const user = str(p.user);
        if (!channel) return { ok: false, error: "channel_not_found" };
        if (!user) return { ok: false, error: "user_not_found" };
        const message_ts = this.nextTs();
        this.ephemerals.push({
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
        if (!this.find(channel, ts)) return { ok: false, error: "message_not_found" };
        return {
          ok: true,
          channel,
          permalink: `${this.origin}/archives/${channel}/p${ts.replace(".", "")}`,
        };
      }
      case "conversations.history":
        return this.history(p);
      case "conversations.open": {
        const users = str(p.users)?.split(",").filter(Boolean) ?? [];
        const first = users[0];
        if (!first) return { ok: false, error: "users_list_not_supplied" };
        const id = this.dmChannel(first);
        return { ok: true, channel: { id, is_im: true, user: first } };
      }
      case "views.open":
      case "views.push": {
        if (!str(p.trigger_id)) return { ok: false, error: "invalid_trigger_id" };
        const view = obj(p.view);
        if (!view) return { ok: false, error: "invalid_arguments" };
        return { ok: true, view: this.storeView(view, undefined) };
      }
      case "views.update": {
        const id = str(p.view_id) ?? this.findViewByExternalId(str(p.external_id));
        const view = obj(p.view);
        const current = id ? this.views.get(id) : undefined;
        if (!current) return { ok: false, error: "not_found" };
        if (!view) return { ok: false, error: "invalid_arguments" };
        const hash = str(p.hash);
        if (hash && hash !== current.hash) return { ok: false, error: "hash_conflict" };
        return { ok: true, view: this.storeView(view, current.id, current.user) };
      }
      case "views.publish": {
        const user = str(p.user_id);
        const view = obj(p.view);
        if (!user) return { ok: false, error: "invalid_arguments" };
        if (!view) return { ok: false, error: "invalid_arguments" };
        const existing = [...this.views.values()].find((v) => v.type === "home" && v.user === user);
        return { ok: true, view: this.storeView(view, existing?.id, user) };
      }
      case "users.info": {
        const id = str(p.user);
        if (!id) return { ok: false, error: "user_not_found" };
        const user = this.users.get(id) ?? {
          id,
          name: id.toLowerCase(),
          real_name: `User ${id}`,
          tz: "UTC",
          is_admin: false,
          is_bot: false,
          profile: { display_name: id.toLowerCase(), real_name: `User ${id}` },
        };
        return { ok: true, user: { team_id: this.teamId, deleted: false, ...user } };
      }
      default:
        return { ok: false, error: "unknown_method" };
    }
  }

  private openConnection(token: string): Params {
    if (!token.startsWith("xapp-")) return { ok: false, error: "not_allowed_token_type" };
    const ticket = randomBytes(16).toString("hex");
    this.tickets.add(ticket);
    const wsOrigin = this.origin.replace(/^http/, "ws");
    return { ok: true, url: `${wsOrigin}/link/?ticket=${ticket}&app_id=A0LEADBOT` };
  }

  /** WebSocket upgrades: only `/link/` with a ticket from apps.connections.open, used once. */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", this.origin);
    const ticket = url.searchParams.get("ticket") ?? "";
    if (url.pathname !== "/link/" || !this.tickets.delete(ticket)) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    this.socketServer().then(
      (wss) => wss.handleUpgrade(req, socket, head, (ws) => this.link(ws)),
      (err: unknown) => {
        socket.end("HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n");
        this.emit("socket_error", err);
      },
    );
  }

  /**
   * The WebSocket server, loaded on first use: `ws` is a development dependency, and only tests
   * use Socket Mode against the stand-in (local mode drives the app over HTTP).
   */
  private socketServer(): Promise<WebSocketServer> {
    this.wss ??= import("ws").then(
      ({ WebSocketServer }) => new WebSocketServer({ noServer: true }),
      (err: unknown) => {
        throw new Error(
          `Socket Mode in the Slack stand-in needs the "ws" package (npm install, with dev dependencies): ${String(err)}`,
        );
      },
    );
    return this.wss;
  }

  private openLinks(): SocketLink[] {
    return this.links.filter((l) => l.ws.readyState === l.ws.OPEN);
  }

  private link(ws: WebSocket): void {
    this.linkSeq += 1;
    const link: SocketLink = { id: this.linkSeq, ws };
    this.links.push(link);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      this.onSocketMessage(String(data));
    });
    ws.on("close", () => {
      const i = this.links.indexOf(link);
      if (i >= 0) this.links.splice(i, 1);
      this.emit("socket_close", link.id);
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.openLinks().length,
        debug_info: { host: "standin", approximate_connection_time: 18_060 },
        connection_info: { app_id: "A0LEADBOT" },
      }),
    );
    this.emit("socket_open", link.id);
  }

  private onSocketMessage(text: string): void {
    const message = obj(text);
    const envelopeId = str(message?.envelope_id);
    // Slack ignores what is not an ack (and acks for envelopes it no longer waits for).
    if (!message || !envelopeId) return;
    const ack: SocketAck = {
      envelope_id: envelopeId,
      payload: obj(message.payload),
      at: Date.now(),
    };
    this.socketAcks.push(ack);
    this.emit("socket_ack", ack);
    const waiting = this.awaitingAck.get(envelopeId);
    if (!waiting) return;
    this.awaitingAck.delete(envelopeId);
    clearTimeout(waiting.timer);
    waiting.resolve(ack);
  }

  private channelOf(raw: string): string {
    // Posting to a user id posts in the bot's DM with that user, as Slack does.
    return /^[UW]/.test(raw) ? this.dmChannel(raw) : raw;
  }

  private postMessage(p: Params): Params {
    const target = str(p.channel);
    if (!target) return { ok: false, error: "channel_not_found" };
    const text = str(p.text) ?? "";
    const blocks = arr(p.blocks);
    if (!text && !blocks) return { ok: false, error: "no_text" };
    if (blocks && blocks.length > 50) return { ok: false, error: "invalid_blocks" };
    const channel = this.channelOf(target);
    const message: StoredMessage = {
      channel,
      ts: this.nextTs(),
      user: this.botUserId,
      text,
      blocks,
      metadata: metadataOf(p.metadata),
      thread_ts: str(p.thread_ts),
    };
    const list = this.channels.get(channel) ?? [];
    list.push(message);
    this.channels.set(channel, list);
    return { ok: true, channel, ts: message.ts, message: this.public(message, true) };
  }

  private update(p: Params): Params {
    const channel = str(p.channel);
    const ts = str(p.ts);
    if (!channel || !ts) return { ok: false, error: "invalid_arguments" };
    const message = this.find(this.channelOf(channel), ts);
    if (!message) return { ok: false, error: "message_not_found" };
    if (p.text !== undefined) message.text = str(p.text) ?? "";
    if (p.blocks !== undefined) message.blocks = arr(p.blocks);
    if (p.metadata !== undefined) message.metadata = metadataOf(p.metadata);
    message.edited = { user: this.botUserId, ts: this.nextTs() };
    return {
      ok: true,
      channel: message.channel,
      ts,
      text: message.text,
      message: this.public(message, true),
    };
  }

  private history(p: Params): Params {
    const channel = str(p.channel);
    if (!channel) return { ok: false, error: "channel_not_found" };
    const all = this.channels.get(channel);
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
      messages: page.map((m) => this.public(m, withMeta)),
      has_more: hasMore,
      pin_count: 0,
      response_metadata: { next_cursor: hasMore ? String(offset + limit) : "" },
    };
  }

  private find(channel: string, ts: string): StoredMessage | undefined {
    return this.channels.get(channel)?.find((m) => m.ts === ts);
  }

  private public(m: StoredMessage, withMetadata: boolean): Params {
    const out: Params = {
      type: "message",
      user: m.user,
      bot_id: this.botId,
      text: m.text,
      ts: m.ts,
      team: this.teamId,
    };
    if (m.blocks) out.blocks = m.blocks;
    if (m.thread_ts) out.thread_ts = m.thread_ts;
    if (m.edited) out.edited = m.edited;
    if (withMetadata && m.metadata) out.metadata = m.metadata;
    return out;
  }

  private findViewByExternalId(externalId: string | undefined): string | undefined {
    if (!externalId) return undefined;
    return [...this.views.values()].find((v) => v.view.external_id === externalId)?.id;
  }

  private storeView(view: Params, id: string | undefined, user?: string): Params {
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
      team_id: this.teamId,
      app_id: "A0LEADBOT",
      bot_id: this.botId,
      hash: stored.hash,
      state: { values: {} },
      private_metadata: str(view.private_metadata) ?? "",
      callback_id: str(view.callback_id) ?? "",
    };
  }
}

function send(res: ServerResponse, body: Params): void {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(raw: string, contentType: string | undefined): Params {
  if (!raw) return {};
  if (contentType?.includes("application/json")) {
    const parsed = JSON.parse(raw) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Params) : {};
  }
  const out: Params = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    out[key] = JSON_FIELDS.has(key) ? tryJson(value) : value;
  }
  return out;
}

function tryJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function bool(v: unknown): boolean {
  return v === true || v === "true" || v === "1" || v === 1;
}

function arr(v: unknown): unknown[] | undefined {
  const value = typeof v === "string" ? tryJson(v) : v;
  return Array.isArray(value) ? value : undefined;
}

function obj(v: unknown): Params | undefined {
  const value = typeof v === "string" ? tryJson(v) : v;
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Params)
    : undefined;
}

function metadataOf(v: unknown): StoredMessage["metadata"] {
  const m = obj(v);
  if (!m || typeof m.event_type !== "string") return undefined;
  return { event_type: m.event_type, event_payload: obj(m.event_payload) ?? {} };
}

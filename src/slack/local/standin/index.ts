import { EventEmitter } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { type FailSpec, Faults } from "./faults.js";
import type { Params } from "./params.js";
import type { ResponseUrlPost, StandinCall } from "./server.js";
import { StandinServer } from "./server.js";
import {
  type DeliverOptions,
  type EnvelopeType,
  type SocketAck,
  SocketMode,
} from "./socket-mode.js";
import {
  type EphemeralMessage,
  MessageStore,
  type StandinUser,
  type StoredFile,
  type StoredMessage,
  type StoredView,
} from "./store.js";
import { respond } from "./web-api.js";

/**
 * A local stand-in for the Slack Web API: the methods Leadbot calls, over real HTTP, with the
 * response shapes Slack gives. Local mode points the app at it, and tests use it to observe every
 * call and to make Slack fail on purpose (rate limits, 5xx, platform errors, hangs, outages).
 * It also speaks Socket Mode: `apps.connections.open` hands out a WebSocket URL on this server,
 * and `deliver()` sends an envelope down it and resolves with the app's ack.
 */

export type { FailSpec } from "./faults.js";
export type { Params } from "./params.js";
export type { ResponseUrlPost, StandinCall } from "./server.js";
export type { DeliverOptions, EnvelopeType, SocketAck } from "./socket-mode.js";
export type {
  EphemeralMessage,
  StandinUser,
  StoredFile,
  StoredMessage,
  StoredView,
} from "./store.js";

export interface StandinOptions {
  port?: number;
  host?: string;
  /** When set, any other bearer token gets `invalid_auth`. */
  token?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** Where uploaded files are saved (local mode: under the data directory); kept in memory only when absent. */
  filesDir?: string;
}

export class SlackStandin extends EventEmitter {
  readonly calls: StandinCall[] = [];
  readonly ephemerals: EphemeralMessage[];
  readonly views: Map<string, StoredView>;
  readonly responsePosts: ResponseUrlPost[] = [];
  readonly users: Map<string, StandinUser>;
  /** Every Socket Mode ack received, oldest first. */
  readonly socketAcks: SocketAck[];
  /** Base URL of the Web API, ending in `/api/` (what `slackApiUrl` takes). */
  readonly url: string;
  readonly origin: string;
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;

  private readonly server: StandinServer;
  private readonly store: MessageStore;
  private readonly faults = new Faults();
  private readonly socket: SocketMode;

  private constructor(server: StandinServer, opts: StandinOptions) {
    super();
    this.server = server;
    this.origin = server.origin;
    this.url = `${server.origin}/api/`;
    this.teamId = opts.teamId ?? "T0LOCAL01";
    this.botUserId = opts.botUserId ?? "U0LEADBOT";
    this.botId = opts.botId ?? "B0LEADBOT";
    this.store = new MessageStore(this);
    this.ephemerals = this.store.ephemerals;
    this.views = this.store.views;
    this.users = this.store.users;
    this.socket = new SocketMode(this.origin, this);
    this.socketAcks = this.socket.acks;
    const api = {
      store: this.store,
      origin: this.origin,
      token: opts.token,
      teamId: this.teamId,
      botUserId: this.botUserId,
      botId: this.botId,
      openConnection: (token: string) => this.socket.openConnection(token),
      fileCompleted: (file: StoredFile) => {
        if (opts.filesDir && file.bytes && !file.path) {
          mkdirSync(opts.filesDir, { recursive: true });
          // The id keeps two uploads of the same name apart; the name keeps the file findable.
          file.path = join(opts.filesDir, `${file.id}-${basename(file.name)}`);
          writeFileSync(file.path, file.bytes);
        }
        this.emit("file", file);
      },
    };
    server.route({
      responsePosted: (post) => {
        this.responsePosts.push(post);
        this.emit("response", post);
      },
      received: (call) => this.calls.push(call),
      failureFor: (method) => this.faults.take(method),
      answer: (method, params, token) => respond(api, method, params, token),
      answered: (call) => this.emit("call", call),
      upgrade: (req, socket, head) => this.socket.upgrade(req, socket, head),
      uploaded: (id, bytes) => {
        const file = this.store.files.get(id);
        if (!file) return false;
        file.bytes = bytes;
        return true;
      },
      fileBytes: (id) => this.store.files.get(id)?.bytes,
    });
  }

  static async start(opts: StandinOptions = {}): Promise<SlackStandin> {
    const server = await StandinServer.listen(opts.host ?? "127.0.0.1", opts.port ?? 0);
    return new SlackStandin(server, opts);
  }

  /** Files uploaded so far (completed or not), in upload order. */
  files(): StoredFile[] {
    return [...this.store.files.values()];
  }

  /** Calls made to one method, in order (including those that met an injected failure). */
  callsTo(method: string): StandinCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages of a channel, oldest first. */
  messages(channel: string): StoredMessage[] {
    return [...(this.store.channel(channel) ?? [])];
  }

  /** Every channel that holds messages, with its messages. */
  allMessages(): StoredMessage[] {
    return this.store.allMessages();
  }

  /** The DM channel id the stand-in gives a user (what `conversations.open` returns). */
  dmChannel(userId: string): string {
    return this.store.dmChannel(userId);
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
    this.faults.next(method, spec, times);
  }

  /** Every call to `method` ("*" for any) fails as described for the next `ms` milliseconds. */
  failFor(method: string, ms: number, spec: FailSpec = { status: 503 }): void {
    this.faults.during(method, ms, spec);
  }

  /** Ends injected failures, queued and timed. */
  recover(): void {
    this.faults.clear();
  }

  /** Socket Mode connections open now: they got `hello`, and no side has started closing them. */
  get socketConnections(): number {
    return this.socket.openLinks().length;
  }

  /** Resolves once a Socket Mode connection is open: now, or when the next one opens. */
  waitForSocket(): Promise<void> {
    return this.socket.waitForOpen();
  }

  /** Resolves once no Socket Mode connection is open (the app hung up). */
  waitForSocketsClosed(): Promise<void> {
    return this.socket.waitForAllClosed();
  }

  /**
   * Sends an envelope over the newest Socket Mode connection, as Slack does for a slash command
   * (`slash_commands`, payload = the command's fields), a click or submission (`interactive`,
   * payload = the interaction) or an event (`events_api`, payload = the event callback), and
   * resolves with the payload of the app's ack.
   */
  deliver(
    type: EnvelopeType,
    payload: Params,
    opts: DeliverOptions = {},
  ): Promise<Params | undefined> {
    return this.socket.deliver(type, payload, opts);
  }

  /** Sends Slack's `disconnect` message on every connection (the app is expected to reconnect). */
  disconnectSockets(reason: "warning" | "refresh_requested" | "link_disabled"): void {
    this.socket.disconnect(reason);
  }

  /** Forgets calls, messages, views and failures. */
  reset(): void {
    this.socketAcks.length = 0;
    this.calls.length = 0;
    this.responsePosts.length = 0;
    this.store.clear();
    this.recover();
  }

  async close(): Promise<void> {
    this.server.dropPending();
    await this.socket.close();
    await this.server.close();
  }
}

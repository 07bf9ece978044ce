import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { obj, type Params, str } from "./params.js";

/**
 * Socket Mode: `apps.connections.open` hands out a one-use WebSocket URL on the stand-in's server,
 * and `deliver()` sends an envelope down the newest connection and resolves with the app's ack.
 */

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

export class SocketMode {
  /** Every ack received, oldest first. */
  readonly acks: SocketAck[] = [];
  /** Tickets handed out by apps.connections.open and not used yet. */
  private readonly tickets = new Set<string>();
  private readonly links: SocketLink[] = [];
  private readonly awaitingAck = new Map<string, PendingAck>();
  private wss: Promise<WebSocketServer> | undefined;
  private linkSeq = 0;
  private envelopeSeq = 0;

  /** `events` receives socket_open, socket_close, socket_ack and socket_error. */
  constructor(
    private readonly origin: string,
    private readonly events: EventEmitter,
  ) {}

  openConnection(token: string): Params {
    if (!token.startsWith("xapp-")) return { ok: false, error: "not_allowed_token_type" };
    const ticket = randomBytes(16).toString("hex");
    this.tickets.add(ticket);
    const wsOrigin = this.origin.replace(/^http/, "ws");
    return { ok: true, url: `${wsOrigin}/link/?ticket=${ticket}&app_id=A0LEADBOT` };
  }

  /** WebSocket upgrades: only `/link/` with a ticket from apps.connections.open, used once. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
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
        this.events.emit("socket_error", err);
      },
    );
  }

  /** Connections open now: they got `hello`, and no side has started closing them. */
  openLinks(): SocketLink[] {
    return this.links.filter((l) => l.ws.readyState === l.ws.OPEN);
  }

  /** Resolves once a connection is open: now, or when the next one opens. */
  waitForOpen(): Promise<void> {
    if (this.openLinks().length > 0) return Promise.resolve();
    return new Promise((resolve) => this.events.once("socket_open", () => resolve()));
  }

  /** Resolves once no connection is open (the app hung up). */
  waitForAllClosed(): Promise<void> {
    if (this.openLinks().length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const onClose = () => {
        if (this.openLinks().length > 0) return;
        this.events.off("socket_close", onClose);
        resolve();
      };
      this.events.on("socket_close", onClose);
    });
  }

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
  disconnect(reason: "warning" | "refresh_requested" | "link_disabled"): void {
    for (const link of this.openLinks()) {
      link.ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: "standin" } }));
    }
  }

  async close(): Promise<void> {
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

  private link(ws: WebSocket): void {
    this.linkSeq += 1;
    const link: SocketLink = { id: this.linkSeq, ws };
    this.links.push(link);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      this.onMessage(String(data));
    });
    ws.on("close", () => {
      const i = this.links.indexOf(link);
      if (i >= 0) this.links.splice(i, 1);
      this.events.emit("socket_close", link.id);
    });
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: this.openLinks().length,
        debug_info: { host: "standin", approximate_connection_time: 18_060 },
        connection_info: { app_id: "A0LEADBOT" },
      }),
    );
    this.events.emit("socket_open", link.id);
  }

  private onMessage(text: string): void {
    const message = obj(text);
    const envelopeId = str(message?.envelope_id);
    // Slack ignores what is not an ack (and acks for envelopes it no longer waits for).
    if (!message || !envelopeId) return;
    const ack: SocketAck = {
      envelope_id: envelopeId,
      payload: obj(message.payload),
      at: Date.now(),
    };
    this.acks.push(ack);
    this.events.emit("socket_ack", ack);
    const waiting = this.awaitingAck.get(envelopeId);
    if (!waiting) return;
    this.awaitingAck.delete(envelopeId);
    clearTimeout(waiting.timer);
    waiting.resolve(ack);
  }
}

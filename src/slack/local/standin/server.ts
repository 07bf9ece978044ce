import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { FailSpec } from "./faults.js";
import { type Params, tryJson } from "./params.js";

/**
 * The stand-in's HTTP server: Web API calls under `/api/`, `response_url` posts under
 * `/response/`, WebSocket upgrades for Socket Mode, and injected failures as Slack shows them on
 * the wire (429 with Retry-After, 5xx, `ok: false`, a hang).
 */

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

export interface ResponseUrlPost {
  id: string;
  payload: Params;
  at: number;
}

/** What the server asks of the stand-in behind it. */
export interface Routes {
  responsePosted(post: ResponseUrlPost): void;
  /** A Web API call arrived; it is recorded before it is answered. */
  received(call: StandinCall): void;
  failureFor(method: string): FailSpec | undefined;
  answer(method: string, params: Params, token: string | undefined): Params;
  /** The call was answered, or met its injected failure. */
  answered(call: StandinCall): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Bytes sent to a file's upload URL; false when no upload URL was handed out for it. */
  uploaded(fileId: string, bytes: Buffer): boolean;
  /** A stored file's bytes, as `url_private` serves them. */
  fileBytes(fileId: string): Buffer | undefined;
}

/** The name under which faults for response_url posts are injected (it is no Web API method). */
export const RESPONSE_URL = "response_url";

/** Fields Slack accepts as JSON strings in a form body. */
const JSON_FIELDS = new Set(["blocks", "attachments", "metadata", "view", "unfurls", "files"]);

export class StandinServer {
  private routes: Routes | undefined;
  /** Responses held open by a `hangMs` failure. */
  private readonly pending = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async listen(host: string, port: number): Promise<StandinServer> {
    let started: StandinServer | undefined;
    const server = createServer((req, res) => {
      const routes = started?.routes;
      if (!started || !routes) {
        res.writeHead(503).end();
        return;
      }
      started.handle(routes, req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
    const { port: bound } = server.address() as AddressInfo;
    const listening = new StandinServer(server, `http://${host}:${bound}`);
    server.on("upgrade", (req, socket, head) => {
      if (listening.routes) listening.routes.upgrade(req, socket, head);
      else socket.destroy();
    });
    started = listening;
    return listening;
  }

  route(routes: Routes): void {
    this.routes = routes;
  }

  /** Drops held responses; call before closing upgraded sockets, as they are not the server's. */
  dropPending(): void {
    for (const res of this.pending) res.destroy();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(routes: Routes, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const bytes = await readBytes(req);
    if (url.pathname.startsWith("/upload/")) {
      const id = decodeURIComponent(url.pathname.slice("/upload/".length));
      const data = await uploadedData(bytes, req.headers["content-type"], this.origin);
      if (!routes.uploaded(id, data)) {
        res.writeHead(404, { "content-type": "text/plain" }).end("no such upload");
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${data.length}`);
      return;
    }
    if (url.pathname.startsWith("/files/") && req.method === "GET") {
      const id = decodeURIComponent(url.pathname.split("/")[2] ?? "");
      const data = routes.fileBytes(id);
      if (!data) res.writeHead(404, { "content-type": "text/plain" }).end("no such file");
      else res.writeHead(200, { "content-type": "image/png" }).end(data);
      return;
    }
    const raw = bytes.toString("utf8");
    if (url.pathname.startsWith("/response/")) {
      const id = decodeURIComponent(url.pathname.slice("/response/".length));
      const payload = parseBody(raw, req.headers["content-type"]);
      // Slack refuses a response_url post it cannot show (say `invalid_blocks`) with a 4xx and
      // the error as plain text; `failNext(RESPONSE_URL, …)` plays that.
      const failure = routes.failureFor(RESPONSE_URL);
      if (failure && !("hangMs" in failure)) {
        const status = "status" in failure ? failure.status : 400;
        const text = "error" in failure ? failure.error : "internal_error";
        res.writeHead(status, { "content-type": "text/plain" }).end(text);
        return;
      }
      routes.responsePosted({ id, payload, at: Date.now() });
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
    routes.received(call);

    const failure = routes.failureFor(method);
    call.failed = failure;
    if (failure && "hangMs" in failure) {
      this.pending.add(res);
      await new Promise((r) => setTimeout(r, failure.hangMs));
      this.pending.delete(res);
      if (res.destroyed) {
        // The client gave up; Slack would still have done the work.
        routes.answer(method, params, token);
        routes.answered(call);
        return;
      }
    } else if (failure && "status" in failure) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if ("retryAfter" in failure) headers["retry-after"] = String(failure.retryAfter);
      const error = failure.status === 429 ? "ratelimited" : "internal_error";
      res.writeHead(failure.status, headers).end(JSON.stringify({ ok: false, error }));
      routes.answered(call);
      return;
    } else if (failure && "error" in failure) {
      call.response = { ok: false, error: failure.error };
      send(res, call.response);
      routes.answered(call);
      return;
    }
    call.response = routes.answer(method, params, token);
    send(res, call.response);
    routes.answered(call);
  }
}

function send(res: ServerResponse, body: Params): void {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The file sent to an upload URL: the Web API client posts it as multipart form data (one file
 * part), other clients as the raw body; both are accepted, as Slack does.
 */
async function uploadedData(
  body: Buffer,
  contentType: string | undefined,
  origin: string,
): Promise<Buffer> {
  if (!contentType?.startsWith("multipart/form-data")) return body;
  const form = await new Request(origin, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  }).formData();
  for (const value of form.values()) {
    if (typeof value !== "string") return Buffer.from(await value.arrayBuffer());
  }
  return Buffer.alloc(0);
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

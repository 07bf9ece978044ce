import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { DomainError, type ErrorCode } from "../services/errors.js";

/** Largest request body accepted: a full batch of 10k events fits comfortably. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type Params = Record<string, string>;
export type Handler = (
  req: IncomingMessage & { params?: Params },
  res: ServerResponse,
) => Promise<void>;

/** The same shape Bolt's `customRoutes` takes, so these routes mount on Bolt's server. */
export interface Route {
  path: string;
  method: string | string[];
  handler: (req: IncomingMessage & { params?: Params }, res: ServerResponse) => void;
}

/** The HTTP status of each domain error code: the one place a domain failure meets HTTP. */
export const STATUS_OF: Record<ErrorCode, number> = {
  not_found: 404,
  forbidden: 403,
  already_claimed: 409,
  proposal_decided: 409,
  proposal_stale: 409,
  no_change: 400,
  csv_invalid: 400,
  expired_trigger: 400,
  stale_action: 409,
  model_invalid: 422,
  invalid_input: 400,
  invalid_lead_key: 400,
  rate_limited: 429,
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Send the body as JSON with Content-Type: application/json.",
    );
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new HttpError(
      413,
      "payload_too_large",
      `The body is larger than ${limit} bytes; send smaller batches.`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new HttpError(
        413,
        "payload_too_large",
        `The body is larger than ${limit} bytes; send smaller batches.`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(
      400,
      "invalid_json",
      `The body is not valid JSON: ${(err as Error).message}`,
    );
  }
}

/** What a route reports when a handler fails unexpectedly: the route's pattern, never its URL. */
export interface RouteFailure {
  method: string;
  route: string;
  errorId: string;
}

/** Wraps a handler so every failure becomes a JSON error with a stable code. */
export function route(
  method: string,
  path: string,
  handler: Handler,
  onError: (err: unknown, failure: RouteFailure) => void = () => {},
): Route {
  const fail = (res: ServerResponse, err: unknown) => {
    if (err instanceof HttpError) {
      if (res.headersSent) return void res.destroy();
      sendJson(res, err.status, { error: err.code, message: err.message, details: err.details });
    } else if (err instanceof DomainError) {
      if (res.headersSent) return void res.destroy();
      // Fields (user ids and the like) go as data; the message names them plainly.
      const details = Object.keys(err.fields).length > 0 ? { details: err.fields } : {};
      sendJson(res, STATUS_OF[err.code], { error: err.code, message: err.message, ...details });
    } else {
      const errorId = randomUUID();
      onError(err, { method, route: path, errorId });
      answerUnexpected(res, errorId);
    }
  };
  return {
    method,
    path,
    handler: (req, res) => {
      try {
        handler(req, res).catch((err: unknown) => fail(res, err));
      } catch (err) {
        fail(res, err);
      }
    },
  };
}

function compile(path: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path
    .split("/")
    .map((seg) => {
      if (seg.startsWith(":")) {
        names.push(seg.slice(1));
        return "([^/]+)";
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { re: new RegExp(`^${pattern}/?$`), names };
}

/** Decodes a path segment, or undefined when it is not valid percent-encoding (`%FF`, `%`). */
function decodeSegment(raw: string): string | undefined {
  try {
    const value = decodeURIComponent(raw);
    // NUL names nothing and Postgres cannot hold it in text.
    return value.includes("\u0000") ? undefined : value;
  } catch {
    return undefined;
  }
}

/** The path of a request target, or undefined when it cannot be parsed as one. */
function requestPath(target: string | undefined): string | undefined {
  const raw = target ?? "/";
  // Origin-form only ("/path?query"): "//host" or "http://x/" would otherwise be read as a host.
  if (!raw.startsWith("/")) return undefined;
  const end = raw.search(/[?#]/);
  const path = end < 0 ? raw : raw.slice(0, end);
  return path.replace(/\/{2,}/g, "/");
}

/** The last answer to a request that failed outside any route's own error handling. */
function answerUnexpected(res: ServerResponse, errorId: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, 500, {
    error: "internal",
    message: `Something went wrong (error id ${errorId}); the log has details.`,
    errorId,
  });
}

/**
 * Dispatches to routes the way Bolt's receiver does, for a server without Slack. Nothing a
 * client sends can throw out of it: a target that does not parse or decode is a 400, and a
 * handler that throws (synchronously or not) is a logged 500 with an id.
 */
export function createRequestListener(
  routes: Route[],
  onError: (err: unknown, errorId: string) => void = () => {},
) {
  const compiled = routes.map((r) => ({ ...r, ...compile(r.path) }));
  return (req: IncomingMessage & { params?: Params }, res: ServerResponse) => {
    try {
      const path = requestPath(req.url);
      if (path === undefined) {
        sendJson(res, 400, {
          error: "bad_request_target",
          message: "The request target must be a path starting with a single /.",
        });
        return;
      }
      for (const r of compiled) {
        const methods = Array.isArray(r.method) ? r.method : [r.method];
        const m = r.re.exec(path);
        if (!m || !methods.includes(req.method ?? "GET")) continue;
        const params: Params = {};
        for (const [i, name] of r.names.entries()) {
          const value = decodeSegment(m[i + 1] ?? "");
          if (value === undefined) {
            sendJson(res, 400, {
              error: "bad_path_encoding",
              message: `The ${name} in the path is not valid percent-encoding (UTF-8, no NUL); encode it with encodeURIComponent.`,
            });
            return;
          }
          params[name] = value;
        }
        req.params = params;
        const result: unknown = r.handler(req, res);
        if (result instanceof Promise) {
          result.catch((err: unknown) => {
            const errorId = randomUUID();
            onError(err, errorId);
            answerUnexpected(res, errorId);
          });
        }
        return;
      }
      sendJson(res, 404, {
        error: "not_found",
        message: `No route for ${req.method} ${safePathForMessage(path)}.`,
      });
    } catch (err) {
      const errorId = randomUUID();
      onError(err, errorId);
      answerUnexpected(res, errorId);
    }
  };
}

/** A path as it may appear in an answer: lead keys are personal data, so only the route shape. */
function safePathForMessage(path: string): string {
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}

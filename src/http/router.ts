import type { IncomingMessage, ServerResponse } from "node:http";
import { DomainError } from "../services/errors.js";

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

/** Wraps a handler so every failure becomes a JSON error with a stable code. */
export function route(
  method: string,
  path: string,
  handler: Handler,
  onError: (err: unknown, req: IncomingMessage) => void = () => {},
): Route {
  return {
    method,
    path,
    handler: (req, res) => {
      handler(req, res).catch((err: unknown) => {
        if (res.headersSent) {
          res.end();
          return;
        }
        if (err instanceof HttpError) {
          sendJson(res, err.status, {
            error: err.code,
            message: err.message,
            details: err.details,
          });
        } else if (err instanceof DomainError) {
          sendJson(res, err.status, { error: err.code, message: err.message });
        } else {
          onError(err, req);
          sendJson(res, 500, {
            error: "internal",
            message: "Something went wrong; the log has details.",
          });
        }
      });
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

/** Dispatches to routes the way Bolt's receiver does, for a server without Slack. */
export function createRequestListener(routes: Route[]) {
  const compiled = routes.map((r) => ({ ...r, ...compile(r.path) }));
  return (req: IncomingMessage & { params?: Params }, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    for (const r of compiled) {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      const m = r.re.exec(url.pathname);
      if (!m || !methods.includes(req.method ?? "GET")) continue;
      req.params = Object.fromEntries(
        r.names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? "")]),
      );
      r.handler(req, res);
      return;
    }
    sendJson(res, 404, {
      error: "not_found",
      message: `No route for ${req.method} ${url.pathname}.`,
    });
  };
}

import { timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { STAGES } from "../core/model.js";
import type { Logger } from "../lib/logger.js";
import type { Services } from "../services/index.js";
import { MAX_BATCH_ITEMS } from "../services/ingest.js";
import type { ItemError } from "../services/inputs.js";
import { MAX_TOP } from "../services/leads.js";
import type { Metrics } from "./metrics.js";
import {
  type Handler,
  HttpError,
  type Route,
  type RouteFailure,
  readJson,
  route,
  sendJson,
} from "./router.js";

export interface ApiOptions {
  services: Services;
  metrics: Metrics;
  logger: Logger;
  bootstrapToken?: string | undefined;
  /** LEADBOT_METRICS_TOKEN: when set, /metrics asks for it as a Bearer token. */
  metricsToken?: string | undefined;
}

const leadsBody = z.object({ leads: z.array(z.unknown()) });
const eventsBody = z.object({ events: z.array(z.unknown()) });
const topQuery = z.object({
  top: z.coerce.number().int().min(1).max(MAX_TOP).default(10),
  stage: z.enum([...STAGES, "all"]).default("all"),
  owner: z.string().optional(),
});

/** A batch over the item limit is refused whole, with the limit, before anything is read. */
function checkBatchSize(n: number): void {
  if (n > MAX_BATCH_ITEMS) {
    throw new HttpError(
      413,
      "batch_too_large",
      `A batch holds at most ${MAX_BATCH_ITEMS} items and this one has ${n}; split it into smaller batches.`,
      { limit: MAX_BATCH_ITEMS, items: n },
    );
  }
}

/**
 * The token a request presents: `Bearer <token>`, or where `basic` allows it, HTTP Basic with the
 * token as the user name and an empty password, the write-key convention of Segment's,
 * RudderStack's and Jitsu's client libraries.
 */
export function presentedToken(header: string, basic: boolean): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(header);
  if (bearer?.[1]) return bearer[1];
  if (!basic) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], "base64").toString("utf8");
  const user = decoded.includes(":") ? decoded.slice(0, decoded.indexOf(":")) : decoded;
  return user.length > 0 ? user : undefined;
}

function shapeError(expected: string): HttpError {
  return new HttpError(400, "invalid_body", `The body must be ${expected}.`);
}

/**
 * Batch answer: 200 when anything valid was stored (with per-item errors), 422 when every item
 * was invalid.
 */
function sendBatch(res: ServerResponse, total: number, errors: ItemError[], body: object): void {
  const invalid = new Set(errors.map((e) => e.index)).size;
  const status = total > 0 && invalid === total ? 422 : 200;
  sendJson(res, status, { ...body, errors });
}

/** Compares in constant time, so the token cannot be guessed a character at a time. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const a = Buffer.from(given ?? "");
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function apiRoutes(opts: ApiOptions): Route[] {
  const { services, metrics, logger } = opts;
  const onError = (err: unknown, failure: RouteFailure) =>
    logger.error({ err, ...failure }, "request failed");

  const authed =
    (name: string, handler: Handler, basic = false): Handler =>
    async (req, res) => {
      const end = metrics.httpDuration.startTimer({ route: name });
      res.on("finish", () => {
        end();
        metrics.httpRequests.inc({ route: name, method: req.method ?? "", status: res.statusCode });
      });
      const token = presentedToken(req.headers.authorization ?? "", basic);
      if (!token) {
        res.setHeader("www-authenticate", 'Bearer realm="leadbot"');
        throw new HttpError(
          401,
          "unauthorized",
          basic
            ? "Send an API token as Authorization: Bearer <token>, or as the Basic-auth user name (a Segment write key). Create one with `leadbot token create <name>`."
            : "Send an API token as Authorization: Bearer <token>. Create one with `leadbot token create <name>`.",
        );
      }
      const who = await services.tokens.verify(token, opts.bootstrapToken);
      if (!who) {
        res.setHeader("www-authenticate", 'Bearer realm="leadbot", error="invalid_token"');
        throw new HttpError(401, "unauthorized", "The API token is unknown or revoked.");
      }
      await handler(req, res);
    };

  const r = (method: string, path: string, name: string, handler: Handler, basic = false) =>
    route(method, path, authed(name, handler, basic), onError);

  return [
    r("POST", "/api/v1/leads", "leads.upsert", async (req, res) => {
      const body = leadsBody.safeParse(await readJson(req));
      if (!body.success) throw shapeError('{ "leads": [ ... ] }');
      checkBatchSize(body.data.leads.length);
      const result = await services.upsertLeads(body.data.leads);
      metrics.ingested.inc({ kind: "lead", result: "accepted" }, result.leads.length);
      metrics.ingested.inc(
        { kind: "lead", result: "invalid" },
        body.data.leads.length - result.leads.length,
      );
      sendBatch(res, body.data.leads.length, result.errors, {
        created: result.created,
        updated: result.updated,
        leads: result.leads,
      });
    }),
    r("POST", "/api/v1/events", "events.append", async (req, res) => {
      const body = eventsBody.safeParse(await readJson(req));
      if (!body.success) throw shapeError('{ "events": [ ... ] }');
      checkBatchSize(body.data.events.length);
      const result = await services.recordEvents(body.data.events);
      metrics.ingested.inc({ kind: "event", result: "accepted" }, result.accepted);
      metrics.ingested.inc({ kind: "event", result: "duplicate" }, result.duplicates);
      metrics.ingested.inc(
        { kind: "event", result: "invalid" },
        new Set(result.errors.map((e) => e.index)).size,
      );
      sendBatch(res, body.data.events.length, result.errors, {
        accepted: result.accepted,
        duplicates: result.duplicates,
        leadsCreated: result.leadsCreated,
        alerts: result.alerts,
      });
    }),
    r(
      "POST",
      "/api/v1/segment",
      "segment",
      async (req, res) => {
        const raw = await readJson(req);
        const messages =
          raw && typeof raw === "object" && Array.isArray((raw as { batch?: unknown }).batch)
            ? (raw as { batch: unknown[] }).batch
            : raw && typeof raw === "object" && "type" in raw
              ? [raw]
              : undefined;
        if (!messages)
          throw shapeError('a Segment message ({ "type": "track", ... }) or { "batch": [ ... ] }');
        checkBatchSize(messages.length);
        const result = await services.ingestSegment(messages);
        sendBatch(res, messages.length, result.errors, {
          leads: result.leads,
          events: result.events,
          duplicates: result.duplicates,
        });
      },
      true,
    ),
    r("GET", "/api/v1/leads", "leads.top", async (req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const q = topQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!q.success) {
        const issue = q.error.issues[0];
        throw new HttpError(400, "invalid_query", `${issue?.path.join(".")}: ${issue?.message}`);
      }
      const leads = await services.leads.top({
        limit: q.data.top,
        stage: q.data.stage,
        owner: q.data.owner,
      });
      sendJson(res, 200, { leads });
    }),
    r("GET", "/api/v1/leads/:key", "leads.get", async (req, res) => {
      sendJson(res, 200, await services.leads.get(req.params?.key ?? ""));
    }),
    r("DELETE", "/api/v1/leads/:key", "leads.erase", async (req, res) => {
      const erased = await services.leads.erase(req.params?.key ?? "", "api");
      sendJson(res, 200, { erased: erased.id });
    }),
    route(
      "GET",
      "/healthz",
      async (_req, res) => {
        try {
          const health = await services.health();
          sendJson(res, 200, { ok: true, ...health });
        } catch (err) {
          logger.warn({ err }, "health check failed");
          sendJson(res, 503, { ok: false, error: "database_unavailable" });
        }
      },
      onError,
    ),
    route(
      "GET",
      "/metrics",
      async (req, res) => {
        if (
          opts.metricsToken &&
          !sameSecret(req.headers.authorization, `Bearer ${opts.metricsToken}`)
        ) {
          res.setHeader("www-authenticate", 'Bearer realm="leadbot-metrics"');
          throw new HttpError(
            401,
            "unauthorized",
            "Send the metrics token (LEADBOT_METRICS_TOKEN) as Authorization: Bearer <token>.",
          );
        }
        const text = await metrics.registry.metrics();
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(text);
      },
      onError,
    ),
  ];
}

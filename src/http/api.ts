import type { ServerResponse } from "node:http";
import { z } from "zod";
import { STAGES } from "../core/model.js";
import type { Logger } from "../lib/logger.js";
import type { Services } from "../services/index.js";
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
}

const leadsBody = z.object({ leads: z.array(z.unknown()) });
const eventsBody = z.object({ events: z.array(z.unknown()) });
const topQuery = z.object({
  top: z.coerce.number().int().min(1).max(MAX_TOP).default(10),
  stage: z.enum([...STAGES, "all"]).default("all"),
  owner: z.string().optional(),
});

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

export function apiRoutes(opts: ApiOptions): Route[] {
  const { services, metrics, logger } = opts;
  const onError = (err: unknown, failure: RouteFailure) =>
    logger.error({ err, ...failure }, "request failed");

  const authed =
    (name: string, handler: Handler): Handler =>
    async (req, res) => {
      const end = metrics.httpDuration.startTimer({ route: name });
      res.on("finish", () => {
        end();
        metrics.httpRequests.inc({ route: name, method: req.method ?? "", status: res.statusCode });
      });
      const header = req.headers.authorization ?? "";
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m?.[1]) {
        res.setHeader("www-authenticate", 'Bearer realm="leadbot"');
        throw new HttpError(
          401,
          "unauthorized",
          "Send an API token as Authorization: Bearer <token>. Create one with `leadbot token create <name>`.",
        );
      }
      const who = await services.tokens.verify(m[1], opts.bootstrapToken);
      if (!who) {
        res.setHeader("www-authenticate", 'Bearer realm="leadbot", error="invalid_token"');
        throw new HttpError(401, "unauthorized", "The API token is unknown or revoked.");
      }
      await handler(req, res);
    };

  const r = (method: string, path: string, name: string, handler: Handler) =>
    route(method, path, authed(name, handler), onError);

  return [
    r("POST", "/api/v1/leads", "leads.upsert", async (req, res) => {
      const body = leadsBody.safeParse(await readJson(req));
      if (!body.success) throw shapeError('{ "leads": [ ... ] }');
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
    r("POST", "/api/v1/segment", "segment", async (req, res) => {
      const raw = await readJson(req);
      const messages =
        raw && typeof raw === "object" && Array.isArray((raw as { batch?: unknown }).batch)
          ? (raw as { batch: unknown[] }).batch
          : raw && typeof raw === "object" && "type" in raw
            ? [raw]
            : undefined;
      if (!messages)
        throw shapeError('a Segment message ({ "type": "track", ... }) or { "batch": [ ... ] }');
      const result = await services.ingestSegment(messages);
      sendBatch(res, messages.length, result.errors, {
        leads: result.leads,
        events: result.events,
        duplicates: result.duplicates,
      });
    }),
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
      async (_req, res) => {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { "content-type": metrics.registry.contentType });
        res.end(text);
      },
      onError,
    ),
  ];
}

import { timingSafeEqual } from "node:crypto";
import type { ServerResponse } from "node:http";
import { z } from "zod";
import { MODEL_KEY, STAGES } from "../core/model.js";
import type { Logger } from "../lib/logger.js";
import type { Services } from "../services/index.js";
import { MAX_BATCH_ITEMS } from "../services/ingest.js";
import type { ItemError } from "../services/inputs.js";
import { MAX_TOP } from "../services/leads.js";
import { parseFilters } from "../services/search.js";
import { DEFAULT_PERIOD, PERIODS } from "../services/stats.js";
import { type ApiCaller, actorOf, allows, type Scope } from "../services/tokens.js";
import type { Metrics } from "./metrics.js";
import { proposeFromApi } from "./proposals.js";
import {
  type Handler,
  HttpError,
  type Route,
  type RouteFailure,
  readJson,
  route,
  sendJson,
} from "./router.js";
import { suggestionsHandler } from "./suggestions.js";

export interface ApiOptions {
  services: Services;
  metrics: Metrics;
  logger: Logger;
  bootstrapToken?: string | undefined;
  /** LEADBOT_METRICS_TOKEN: when set, /metrics asks for it as a Bearer token. */
  metricsToken?: string | undefined;
}

/**
 * One row of the API's route table. `scope` is what a token must hold to call it: `ingest` for
 * routes that send data in, `read` for GET routes, `admin` for everything else.
 */
export interface ApiRouteSpec {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** The route's name in metrics and logs. */
  name: string;
  scope: Scope;
  /** Also accept the token as the HTTP Basic user name (Segment's write-key convention). */
  basicAuth?: boolean;
}

/** A route's handler, told which token called it (audit rows name it). */
export type ApiHandler = (
  req: Parameters<Handler>[0],
  res: ServerResponse,
  caller: ApiCaller,
) => Promise<void>;

const leadsBody = z.object({ leads: z.array(z.unknown()) });
/** `GET /api/v1/leads/:key?wait=1` waits this long for the lead's accepted events to be scored. */
const LEAD_WAIT_MS = 5_000;
const eventsBody = z.object({ events: z.array(z.unknown()) });
const list = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
const outcomesBody = z.object({ outcomes: z.array(z.unknown()) });
const statsQuery = z.object({
  period: z
    .enum(PERIODS, { message: `period is one of ${PERIODS.join(", ")}` })
    .default(DEFAULT_PERIOD),
});
const topQuery = z.object({
  top: z.coerce.number().int().min(1).max(MAX_TOP).default(10),
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  stage: z.enum([...STAGES, "all"]).default("all"),
  owner: z.string().optional(),
  model: z.string().regex(MODEL_KEY, "a model key: lowercase letters, digits, - and _").optional(),
  q: z.string().optional(),
  grade: z.string().transform(list).optional(),
  level: z
    .string()
    .transform((s) => list(s).map(Number))
    .optional(),
  minScore: z.coerce.number().optional(),
  maxScore: z.coerce.number().optional(),
  activeWithinDays: z.coerce.number().optional(),
  outcome: z.string().optional(),
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
    (spec: ApiRouteSpec, handler: ApiHandler): Handler =>
    async (req, res) => {
      const end = metrics.httpDuration.startTimer({ route: spec.name });
      res.on("finish", () => {
        end();
        metrics.httpRequests.inc({
          route: spec.name,
          method: req.method ?? "",
          status: res.statusCode,
        });
      });
      const basic = spec.basicAuth === true;
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
      const caller = await services.tokens.verify(token, opts.bootstrapToken);
      if (!caller) {
        res.setHeader("www-authenticate", 'Bearer realm="leadbot", error="invalid_token"');
        throw new HttpError(401, "unauthorized", "The API token is unknown or revoked.");
      }
      if (!allows(caller.scopes, spec.scope)) {
        throw new HttpError(
          403,
          "insufficient_scope",
          `${spec.method} ${spec.path} needs a token with the ${spec.scope} scope; the token "${caller.name}" has ${caller.scopes.join(", ") || "none"}. Create one with \`leadbot token create <name> --scope ${spec.scope}\`.`,
          { scope: spec.scope },
        );
      }
      await handler(req, res, caller);
    };

  /** One API route: every route declares the scope a token needs to call it. */
  const r = (spec: ApiRouteSpec, handler: ApiHandler) =>
    route(spec.method, spec.path, authed(spec, handler), onError);

  return [
    r(
      { method: "POST", path: "/api/v1/leads", name: "leads.upsert", scope: "ingest" },
      async (req, res) => {
        const body = leadsBody.safeParse(await readJson(req));
        if (!body.success) throw shapeError('{ "leads": [ ... ] }');
        checkBatchSize(body.data.leads.length);
        const result = await services.upsertLeads(body.data.leads);
        metrics.ingested.inc({ kind: "lead", result: "accepted" }, result.leads.length);
        metrics.ingested.inc(
          { kind: "lead", result: "invalid" },
          body.data.leads.length - result.leads.length - result.suppressed,
        );
        metrics.ingested.inc({ kind: "lead", result: "suppressed" }, result.suppressed);
        sendBatch(res, body.data.leads.length, result.errors, {
          created: result.created,
          updated: result.updated,
          suppressed: result.suppressed,
          leads: result.leads,
        });
      },
    ),
    r(
      { method: "POST", path: "/api/v1/events", name: "events.append", scope: "ingest" },
      async (req, res) => {
        const body = eventsBody.safeParse(await readJson(req));
        if (!body.success) throw shapeError('{ "events": [ ... ] }');
        checkBatchSize(body.data.events.length);
        const result = await services.recordEvents(body.data.events);
        metrics.ingested.inc({ kind: "event", result: "accepted" }, result.accepted);
        metrics.ingested.inc({ kind: "event", result: "duplicate" }, result.duplicates);
        metrics.ingested.inc({ kind: "event", result: "suppressed" }, result.suppressed);
        metrics.ingested.inc(
          { kind: "event", result: "invalid" },
          new Set(result.errors.map((e) => e.index)).size,
        );
        sendBatch(res, body.data.events.length, result.errors, {
          accepted: result.accepted,
          duplicates: result.duplicates,
          suppressed: result.suppressed,
          leadsCreated: result.leadsCreated,
          alerts: result.alerts,
          scoring: result.scoring,
        });
      },
    ),
    r(
      {
        method: "POST",
        path: "/api/v1/segment",
        name: "segment",
        scope: "ingest",
        basicAuth: true,
      },
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
        metrics.ingested.inc({ kind: "segment", result: "suppressed" }, result.suppressed);
        sendBatch(res, messages.length, result.errors, {
          leads: result.leads,
          events: result.events,
          duplicates: result.duplicates,
          suppressed: result.suppressed,
        });
      },
    ),
    r(
      { method: "POST", path: "/api/v1/outcomes", name: "outcomes.record", scope: "ingest" },
      async (req, res, caller) => {
        const body = outcomesBody.safeParse(await readJson(req));
        if (!body.success) throw shapeError('{ "outcomes": [ ... ] }');
        checkBatchSize(body.data.outcomes.length);
        const result = await services.leads.recordOutcomes(body.data.outcomes, {
          by: actorOf(caller),
          source: "api",
        });
        sendBatch(res, body.data.outcomes.length, result.errors, {
          recorded: result.recorded,
          reopened: result.reopened,
          duplicates: result.duplicates,
          unchanged: result.unchanged,
          items: result.items,
        });
      },
    ),
    r({ method: "GET", path: "/api/v1/stats", name: "stats", scope: "read" }, async (req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const q = statsQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!q.success) throw new HttpError(400, "invalid_query", q.error.issues[0]?.message ?? "");
      const s = await services.stats(q.data.period);
      sendJson(res, 200, {
        period: {
          name: s.period.name,
          since: s.period.since?.toISOString() ?? null,
          until: s.period.until.toISOString(),
        },
        leads: s.leads,
        outcomes: s.outcomes,
        auc: s.auc,
        topDecileLift: s.topDecileLift,
        bands: s.bands,
        grades: s.grades,
        funnel: s.funnel,
        medianDaysMqlToWon: s.medianDaysMqlToWon,
        lostReasons: s.lostReasons,
        awaitingOutcome: s.awaitingOutcome,
      });
    }),
    r(
      { method: "GET", path: "/api/v1/leads", name: "leads.top", scope: "read" },
      async (req, res) => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const q = topQuery.safeParse(Object.fromEntries(url.searchParams));
        if (!q.success) {
          const issue = q.error.issues[0];
          throw new HttpError(400, "invalid_query", `${issue?.path.join(".")}: ${issue?.message}`);
        }
        const { top, offset, stage, ...rest } = q.data;
        // The service checks the filters themselves: one schema for every adapter.
        const filters = parseFilters(
          Object.fromEntries(
            Object.entries({ ...rest, stage: stage === "all" ? undefined : stage }).filter(
              ([, v]) => v !== undefined,
            ),
          ),
        );
        const leads = await services.leads.search(filters, { limit: top, offset });
        sendJson(res, 200, { leads });
      },
    ),
    r(
      { method: "GET", path: "/api/v1/leads/:key", name: "leads.get", scope: "read" },
      async (req, res) => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const wait = url.searchParams.get("wait");
        if (wait !== null && wait !== "0" && wait !== "1")
          throw new HttpError(400, "invalid_query", "wait: expected 1 (or 0)");
        const opts = wait === "1" ? { waitMs: LEAD_WAIT_MS } : {};
        sendJson(res, 200, await services.leads.get(req.params?.key ?? "", opts));
      },
    ),
    r(
      { method: "POST", path: "/api/v1/proposals", name: "proposals.create", scope: "admin" },
      async (req, res) => {
        await proposeFromApi(services, await readJson(req), res);
      },
    ),
    r(
      { method: "POST", path: "/api/v1/suggestions", name: "suggestions", scope: "admin" },
      suggestionsHandler(services),
    ),
    r(
      { method: "DELETE", path: "/api/v1/leads/:key", name: "leads.erase", scope: "admin" },
      async (req, res, caller) => {
        const erased = await services.leads.erase(req.params?.key ?? "", actorOf(caller));
        sendJson(res, 200, { erased: erased.id, messagesRewritten: erased.messages });
      },
    ),
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

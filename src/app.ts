import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Env, isLocalMode } from "./config/env.js";
import { type Database, openDatabase } from "./db/client.js";
import { loadDemoData } from "./demo/index.js";
import { apiRoutes } from "./http/api.js";
import { createMetrics, type Metrics } from "./http/metrics.js";
import { createRequestListener } from "./http/router.js";
import { eventStoreJob } from "./jobs/event-store.js";
import { digestJob, reminderJob } from "./jobs/notices.js";
import { startScheduler } from "./jobs/scheduler.js";
import { suggestJob } from "./jobs/suggest.js";
import type { Logger } from "./lib/logger.js";
import { createServices, type Services } from "./services/index.js";
import { createOutboxDispatcher } from "./services/outbox/dispatcher.js";
import type { MessageDispatcher } from "./services/outbox/messages.js";
import { createNoticeDispatcher } from "./services/outbox/notices.js";
import { createWebhookDispatcher } from "./services/outbox/webhook.js";
import { createSlackApp, SLACK_EVENTS_PATH, type SlackApp } from "./slack/app.js";
import { createSlackClient } from "./slack/client.js";
import type { SlackDeps } from "./slack/deps.js";
import { createSlackSink } from "./slack/sink/index.js";
import { createProposalAnnouncer } from "./slack/tuning/announce.js";

/** How often an instance looks for rescores whose walker stopped. */
const LAPSED_RESCORE_LOOK_MS = 60_000;

/**
 * Looks for lapsed rescores every minute, one look at a time; returns the stop, which does not
 * wait for a rescore in flight (it stops with the database, and its run records how far it got).
 */
function lookForLapsedRescores(services: Services, logger: Logger): () => Promise<void> {
  let looking: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (looking) return;
    looking = services
      .resumeRescores({ lapsedOnly: true })
      .then(
        (r) => {
          if (r.runs.length > 0) logger.info({ runs: r.runs }, "lapsed rescores finished");
        },
        (err: unknown) => logger.error({ err }, "finishing lapsed rescores failed"),
      )
      .finally(() => {
        looking = undefined;
      });
  }, LAPSED_RESCORE_LOOK_MS);
  timer.unref();
  return async () => clearInterval(timer);
}

export interface Leadbot {
  services: Services;
  metrics: Metrics;
  database: Database;
  /** The port the HTTP server listens on (useful with PORT=0). */
  port: number;
  instanceId: string;
  /** The Bolt app, when Slack credentials are set (local mode sets them too). */
  slack?: SlackApp | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  env: Env;
  logger: Logger;
  clock?: () => number;
  /** Opened database to use instead of the one the environment names (tests). */
  database?: Database;
  /** Load the demo data into an empty store; default: LEADBOT_DEMO, else only in local mode. */
  demo?: boolean;
  /** False: alerts queued while loading the demo data are marked delivered, not posted. */
  postDemoAlerts?: boolean;
  /** How often the alert dispatcher looks for due alerts besides being woken (tests shorten it). */
  alertPollMs?: number;
  /** Least time between two posts to one channel (default: Slack's rate; tests shorten it). */
  alertPaceMs?: number;
}

/** Loads the demo data set into an empty store: always in local mode, else when asked. */
function wantsDemo(env: Env, override: boolean | undefined): boolean {
  if (override !== undefined) return override;
  if (env.LEADBOT_DEMO) return env.LEADBOT_DEMO === "on";
  return isLocalMode(env);
}

/** Checks the bot token once at start, so a wrong one stops start-up with a plain reason. */
async function verifyBotToken(
  env: Env,
): Promise<{ botId: string; botUserId: string; teamId: string | undefined }> {
  const client = createSlackClient(env.SLACK_BOT_TOKEN ?? "", env.SLACK_API_URL);
  let res: Awaited<ReturnType<typeof client.auth.test>>;
  try {
    res = await client.auth.test();
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    throw new Error(
      code
        ? `Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token from the app's "OAuth & Permissions" page.`
        : `Slack's Web API did not answer (${(err as Error).message}); check the network or SLACK_API_URL.`,
    );
  }
  if (!res.bot_id || !res.user_id) {
    throw new Error("SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token (xoxb-…).");
  }
  return { botId: res.bot_id, botUserId: res.user_id, teamId: res.team_id };
}

/** How long a shutdown waits for requests in flight before cutting their connections. */
const DRAIN_MS = 10_000;

export async function startLeadbot(opts: StartOptions): Promise<Leadbot> {
  const { env, logger } = opts;
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const database =
    opts.database ??
    (await openDatabase({ url: env.DATABASE_URL, dataDir: env.LEADBOT_DATA_DIR, logger }));
  const stops: (() => Promise<void>)[] = [];
  try {
    const services = createServices({
      database,
      logger,
      clock: opts.clock,
      admins: env.LEADBOT_ADMINS,
      alertBurst: env.LEADBOT_ALERT_BURST,
      suppressionKey: env.LEADBOT_SUPPRESSION_KEY,
      proposalsPerHour: env.LEADBOT_PROPOSALS_PER_HOUR,
      eventRetentionDays: env.LEADBOT_EVENT_RETENTION_DAYS,
    });
    const active = await services.models.ensure(env.LEADBOT_MODEL_FILE);
    logger.info({ version: active.version, database: database.kind }, "scoring model active");
    // A rescore a killed process left half done is finished in the background; start-up goes on.
    void services.resumeRescores().then(
      (r) => {
        if (r.runs.length > 0) logger.info({ runs: r.runs }, "unfinished rescores finished");
      },
      (err: unknown) => logger.error({ err }, "finishing unfinished rescores failed"),
    );
    if (wantsDemo(env, opts.demo)) {
      if ((await services.leads.count()) === 0) {
        const loaded = await loadDemoData(services, { seed: 42, leads: 2_000 });
        if (opts.postDemoAlerts === false) {
          await services.alerts.markPendingDelivered("demo data: not posted");
        }
        logger.info(loaded, "demo data loaded");
      }
    }
    const metrics = createMetrics(services);
    const routes = apiRoutes({
      services,
      metrics,
      logger,
      bootstrapToken: env.LEADBOT_API_TOKEN,
      metricsToken: env.LEADBOT_METRICS_TOKEN,
    });

    let slack: SlackApp | undefined;
    let notices: MessageDispatcher | undefined;
    /** Shows a proposal the app made itself (the weekly suggestion) to the managers. */
    let announce: ((proposalId: number) => Promise<void>) | undefined;
    if (env.SLACK_BOT_TOKEN) {
      const deps: SlackDeps = {
        services,
        alertChannel: env.LEADBOT_ALERT_CHANNEL,
        admins: env.LEADBOT_ADMINS,
        logger,
        clock: services.clock,
      };
      slack = createSlackApp({
        botToken: env.SLACK_BOT_TOKEN,
        signingSecret: env.SLACK_SIGNING_SECRET,
        appToken: env.SLACK_APP_TOKEN,
        apiUrl: env.SLACK_API_URL,
        ...(await verifyBotToken(env)),
        deps,
      });
      const announcer = createProposalAnnouncer(
        deps,
        createSlackClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL),
        opts.alertPollMs,
      );
      services.proposals.onCreated(() => announcer.wake());
      announcer.start();
      stops.push(() => announcer.stop());
      // Proposals made by the weekly job are announced by the same announcer.
      announce = async () => announcer.wake();
      const listener = slack.requestListener;
      if (listener) routes.push({ method: "POST", path: SLACK_EVENTS_PATH, handler: listener });
    }
    const server: Server = createServer(
      createRequestListener(routes, (err, errorId) =>
        logger.error({ err, errorId }, "request failed outside its route"),
      ),
    );
    // A client that resets its connection mid-request must not take the server down.
    server.on("clientError", (err, socket) => {
      logger.debug({ err: (err as Error).message }, "client connection error");
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(env.PORT, resolve);
    });
    let serverClosed: Promise<void> | undefined;
    // Stops accepting, lets requests in flight finish (idle keep-alive sockets go at once), and
    // cuts whatever is still open after DRAIN_MS, so a stalled client cannot hold the shutdown.
    const closeServer = () => {
      serverClosed ??= new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return serverClosed;
    };
    stops.push(closeServer);
    const port = (server.address() as AddressInfo).port;
    logger.info({ port }, "HTTP server listening");

    if (slack) {
      const app = slack;
      await app.start();
      stops.push(() => app.stop());
      logger.info({ mode: app.mode }, "Slack app ready");
    }

    if (env.SLACK_BOT_TOKEN) {
      const dispatcher = createOutboxDispatcher({
        db: database.db,
        kind: database.kind,
        sink: createSlackSink(createSlackClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL)),
        channel: env.LEADBOT_ALERT_CHANNEL,
        instanceId,
        logger,
        ...(opts.alertPollMs ? { pollMs: opts.alertPollMs } : {}),
        ...(opts.alertPaceMs !== undefined ? { paceMs: opts.alertPaceMs } : {}),
      });
      services.onAlerts(() => dispatcher.wake());
      dispatcher.start();
      stops.push(() => dispatcher.stop());
      const noticeDispatcher = createNoticeDispatcher({
        db: database.db,
        sink: createSlackSink(createSlackClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL)),
        instanceId,
        logger,
        pollMs: opts.alertPollMs,
      });
      notices = noticeDispatcher;
      noticeDispatcher.start();
      stops.push(() => noticeDispatcher.stop());
    }

    if (env.LEADBOT_WEBHOOK_URL && env.LEADBOT_WEBHOOK_SECRET) {
      const webhooks = createWebhookDispatcher({
        db: database.db,
        url: env.LEADBOT_WEBHOOK_URL,
        secret: env.LEADBOT_WEBHOOK_SECRET,
        instanceId,
        logger,
        ...(opts.alertPollMs ? { pollMs: opts.alertPollMs } : {}),
      });
      services.onAlerts(() => webhooks.wake());
      webhooks.start();
      stops.push(() => webhooks.stop());
    }

    // Every instance scores accepted events; the marks' row locks share the work out.
    services.scoring.start();
    stops.push(() => services.scoring.stop());

    // A rescore whose walker died or failed (its claim lapses after five minutes without
    // progress) is finished by whichever instance looks next, not only at the next start.
    stops.push(lookForLapsedRescores(services, logger));

    const wakeNotices = () => notices?.wake();
    const scheduler = startScheduler(
      services.jobs,
      [
        {
          name: "decay-refresh",
          schedule: env.LEADBOT_DECAY_CRON,
          async run() {
            const r = await services.refreshDecay();
            return `scored ${r.scored}, changed ${r.changed}, alerts ${r.alerts}`;
          },
        },
        suggestJob(services, { schedule: env.LEADBOT_SUGGEST_CRON, announce }),
        eventStoreJob(services),
        digestJob(services, {
          schedule: env.LEADBOT_DIGEST_CRON,
          tz: env.LEADBOT_TZ,
          channel: env.LEADBOT_ALERT_CHANNEL,
          wake: wakeNotices,
        }),
        reminderJob(services, {
          schedule: env.LEADBOT_REMINDER_CRON,
          tz: env.LEADBOT_TZ,
          days: env.LEADBOT_REMINDER_DAYS,
          wake: wakeNotices,
        }),
      ],
      instanceId,
      logger,
    );
    stops.push(() => scheduler.stop());

    return {
      services,
      metrics,
      database,
      port,
      instanceId,
      slack,
      async stop() {
        // Requests first: their answers and the alerts they queue need the database still open.
        await closeServer();
        for (const stop of stops.reverse()) await stop();
        if (!opts.database) await database.close();
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop();
    if (!opts.database) await database.close();
    throw err;
  }
}

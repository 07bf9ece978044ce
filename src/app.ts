import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { type Env, isLocalMode } from "./config/env.js";
import { type Database, execRows, openDatabase } from "./db/client.js";
import { apiRoutes } from "./http/api.js";
import { createMetrics, type Metrics } from "./http/metrics.js";
import { createRequestListener } from "./http/router.js";
import { startScheduler } from "./jobs/scheduler.js";
import { createSlackClient } from "./slack/client.js";
import type { Logger } from "./lib/logger.js";
import { loadDemoData } from "./services/demo.js";
import { createAlertDispatcher } from "./services/alerts.js";
import { createServices, type Services } from "./services/index.js";
import { ensureModel } from "./services/models.js";

export interface Leadbot {
  services: Services;
  metrics: Metrics;
  database: Database;
  /** The port the HTTP server listens on (useful with PORT=0). */
  port: number;
  instanceId: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  env: Env;
  logger: Logger;
  clock?: () => number;
  /** Opened database to use instead of the one the environment names (tests). */
  database?: Database;
}

/** Loads the demo data set into an empty store: always in local mode, else when asked. */
function wantsDemo(env: Env): boolean {
  if (env.LEADBOT_DEMO) return env.LEADBOT_DEMO === "on";
  return isLocalMode(env);
}

export async function startLeadbot(opts: StartOptions): Promise<Leadbot> {
  const { env, logger } = opts;
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const database =
    opts.database ??
    (await openDatabase({ url: env.DATABASE_URL, dataDir: env.LEADBOT_DATA_DIR, logger }));
  const stops: (() => Promise<void>)[] = [];
  try {
    const active = await ensureModel(database.db, env.LEADBOT_MODEL_FILE);
    logger.info({ version: active.version, database: database.kind }, "scoring model active");
    const services = createServices({ database, logger, clock: opts.clock });
    if (wantsDemo(env)) {
      const [row] = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from leads`);
      if ((row?.n ?? 0) === 0) {
        const loaded = await loadDemoData(services, { seed: 42, leads: 2_000 });
        logger.info(loaded, "demo data loaded");
      }
    }
    const metrics = createMetrics(database.db);
    const routes = apiRoutes({ services, metrics, logger, bootstrapToken: env.LEADBOT_API_TOKEN });
    const server: Server = createServer(createRequestListener(routes));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(env.PORT, resolve);
    });
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const port = (server.address() as AddressInfo).port;
    logger.info({ port }, "HTTP server listening");

    if (env.SLACK_BOT_TOKEN) {
      const dispatcher = createAlertDispatcher({
        db: database.db,
        kind: database.kind,
        slack: createSlackClient(env.SLACK_BOT_TOKEN, env.SLACK_API_URL),
        channel: env.LEADBOT_ALERT_CHANNEL,
        instanceId,
        logger,
      });
      services.onAlerts(() => dispatcher.wake());
      dispatcher.start();
      stops.push(() => dispatcher.stop());
    }

    const scheduler = startScheduler(
      database.db,
      [
        {
          name: "decay-refresh",
          schedule: env.LEADBOT_DECAY_CRON,
          async run() {
            const r = await services.rescoreAll("decay");
            return `scored ${r.scored}, changed ${r.changed}, alerts ${r.alerts}`;
          },
        },
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
      async stop() {
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

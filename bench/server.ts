/**
 * The app's HTTP API in a process of its own, as `npm start` serves it, for the ingest and top-N
 * figures: the benchmark drives it over real HTTP with a bearer token, and it scores accepted
 * events in the background, as every app instance does. Reads DATABASE_URL,
 * LEADBOT_API_TOKEN and BENCH_NOW (the fixed clock, epoch ms); prints `{"port": n}` once
 * listening and stops on SIGTERM.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Database, openDatabase } from "../src/db/client.js";
import { apiRoutes } from "../src/http/api.js";
import { createMetrics } from "../src/http/metrics.js";
import { createRequestListener } from "../src/http/router.js";
import { createLogger } from "../src/lib/logger.js";
import { createServices } from "../src/services/index.js";

export interface ServerHandle {
  port: number;
  stop(): Promise<void>;
}

/** Serves the API routes over `database` on an ephemeral port. */
export async function serveApi(
  database: Database,
  token: string,
  now: number,
): Promise<ServerHandle> {
  // Errors only: a failing request must be visible, and logging each one would cost time.
  const logger = createLogger("error");
  const services = createServices({ database, logger, clock: () => now });
  // An instance scores what it accepts, as the app does.
  services.scoring.start();
  const metrics = createMetrics(services);
  const routes = apiRoutes({ services, metrics, logger, bootstrapToken: token });
  const server = createServer(createRequestListener(routes));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await services.scoring.stop();
    },
  };
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const token = process.env.LEADBOT_API_TOKEN;
  const now = Number(process.env.BENCH_NOW);
  if (!url || !token || !Number.isFinite(now)) {
    throw new Error("bench/server.ts needs DATABASE_URL, LEADBOT_API_TOKEN and BENCH_NOW");
  }
  const database = await openDatabase({ url, migrate: false });
  const handle = await serveApi(database, token, now);
  process.stdout.write(`${JSON.stringify({ port: handle.port })}\n`);
  process.on("SIGTERM", () => {
    const cpu = process.cpuUsage();
    process.stderr.write(`API server CPU: ${Math.round((cpu.user + cpu.system) / 1000)} ms\n`);
    handle
      .stop()
      .then(() => database.close())
      .then(() => process.exit(0));
  });
}

if (process.argv[1]?.endsWith("server.ts")) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench server: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

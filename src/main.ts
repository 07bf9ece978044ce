import { pino } from "pino";
import { type Leadbot, startLeadbot } from "./app.js";
import { ConfigError, type Env, isLocalMode, loadEnv } from "./config/env.js";
import { installLastNet } from "./lib/last-net.js";
import { createLogger, type Logger } from "./lib/logger.js";
import { LocalConsole } from "./slack/local/console.js";
import { startLocalMode } from "./slack/local/mode.js";

/** How long a clean shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 15_000;

const USAGE = `usage: leadbot [--console | --no-console]
  --console     in local mode, open the console even when stdin is not a terminal
  --no-console  in local mode, only run the app (it still answers on PORT)`;

function parseArgs(argv: readonly string[]): { console: boolean | undefined } {
  let wanted: boolean | undefined;
  for (const a of argv) {
    if (a === "--console") wanted = true;
    else if (a === "--no-console") wanted = false;
    else if (a === "--help" || a === "-h") {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      process.stderr.write(`leadbot: unknown option ${a}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return { console: wanted };
}

/**
 * With the console on the terminal, logs go to stderr and only warnings show (unless LOG_LEVEL
 * says otherwise), so they do not bury the conversation.
 */
function consoleLogger(env: Env): Logger {
  const level = process.env.LOG_LEVEL ? env.LOG_LEVEL : "warn";
  return createLogger(level, pino.destination(2));
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  let env: Env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`leadbot: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const local = isLocalMode(env);
  const withConsole = local && (args.console ?? process.stdin.isTTY === true);
  const logger = withConsole ? consoleLogger(env) : createLogger(env.LOG_LEVEL);
  installLastNet(logger);

  let app: Leadbot;
  let stop: () => Promise<void>;
  let localConsole: LocalConsole | undefined;
  if (local) {
    const mode = await startLocalMode({ env, logger });
    app = mode.leadbot;
    stop = () => mode.stop();
    if (withConsole) {
      localConsole = new LocalConsole({
        standin: mode.standin,
        driver: mode.driver,
        services: app.services,
        alertChannel: mode.alertChannel,
        users: mode.users,
        input: process.stdin,
        output: process.stdout,
      });
    } else {
      logger.info(
        { port: app.port, slackApi: mode.standin.url },
        "local mode: no Slack credentials, so the app runs against a local Slack stand-in; start with --console to drive it",
      );
    }
  } else {
    app = await startLeadbot({ env, logger });
    stop = () => app.stop();
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    localConsole?.close();
    const timer = setTimeout(() => {
      logger.error("shutdown took too long; exiting");
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  if (localConsole) {
    process.stdout.write(`Leadbot is up on port ${app.port} (local mode, embedded database).\n`);
    localConsole.run().then(
      () => shutdown("console closed"),
      (err: unknown) => {
        logger.error({ err }, "console failed");
        shutdown("console failed");
      },
    );
  }
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`leadbot: ${message}\n`);
  process.exit(1);
});

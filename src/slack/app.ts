import type { IncomingMessage, ServerResponse } from "node:http";
import {
  App,
  type Logger as BoltLogger,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
} from "@slack/bolt";
import type { Logger } from "../lib/logger.js";
import type { SlackDeps } from "./deps.js";
import { workspaceGuard } from "./guard.js";
import { registerListeners } from "./listeners/index.js";
import { registerRules } from "./rules/index.js";
import { registerTuning } from "./tuning/index.js";

/** Where Slack sends commands, interactions and events (the manifest says the same). */
export const SLACK_EVENTS_PATH = "/slack/events";
/** Listener calls (chat.update, views.open, respond) are short: a couple of quick retries only. */
const LISTENER_RETRY = { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 };
/** A listener's Web API call gives up after this; Slack answers in well under a second. */
const LISTENER_TIMEOUT_MS = 10_000;

export interface SlackAppOptions {
  botToken: string;
  /** HTTP mode: requests are verified with this. */
  signingSecret?: string | undefined;
  /** Socket Mode when set. */
  appToken?: string | undefined;
  apiUrl?: string | undefined;
  /** From auth.test at start, so Bolt does not call it again. */
  botId: string;
  botUserId: string;
  /** The installed workspace, from auth.test: users of any other one are refused. */
  teamId?: string | undefined;
  deps: SlackDeps;
}

export interface SlackApp {
  app: App;
  mode: "http" | "socket";
  /** HTTP mode: the listener to mount at POST /slack/events on the app's own server. */
  requestListener?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
};

/** Bolt's logger interface over the app's pino logger, so Slack logs are JSON lines too. */
export function boltLogger(logger: Logger): BoltLogger {
  let log = logger.child({ component: "slack" });
  const text = (msg: unknown[]) =>
    msg.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ");
  return {
    debug: (...msg) => log.debug(text(msg)),
    info: (...msg) => log.info(text(msg)),
    warn: (...msg) => log.warn(text(msg)),
    error: (...msg) => log.error(text(msg)),
    setLevel: () => {
      // The level is LOG_LEVEL's, for the whole app.
    },
    getLevel: () => LEVELS[logger.level] ?? LogLevel.ERROR,
    setName: (name) => {
      log = logger.child({ component: name });
    },
  };
}

/**
 * Builds the Bolt app and registers every listener. In HTTP mode Bolt's HTTPReceiver is not
 * started: its request listener is mounted on the server that already serves the ingest API and
 * /healthz, so there is one server, one port and one shutdown path in both modes. In Socket
 * Mode, `start()` opens the WebSocket.
 */
export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const logger = boltLogger(opts.deps.logger);
  const clientOptions = {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    retryConfig: LISTENER_RETRY,
    timeout: LISTENER_TIMEOUT_MS,
  };
  const common = {
    token: opts.botToken,
    botId: opts.botId,
    botUserId: opts.botUserId,
    logger,
    clientOptions,
  };
  let app: App;
  let receiver: HTTPReceiver | undefined;
  let socket: SocketModeReceiver | undefined;
  if (opts.appToken) {
    socket = new SocketModeReceiver({
      appToken: opts.appToken,
      logger,
      // Not the listener retry policy (Bolt's default): apps.connections.open keeps the Socket
      // Mode client's long one, because a reconnect that gives up after a short Slack outage
      // rejects where nothing catches it, and the process dies.
      installerOptions: {
        clientOptions: {
          ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
          timeout: LISTENER_TIMEOUT_MS,
        },
      },
    });
    app = new App({ ...common, receiver: socket });
  } else {
    if (!opts.signingSecret) throw new Error("SLACK_SIGNING_SECRET is required in HTTP mode");
    receiver = new HTTPReceiver({
      signingSecret: opts.signingSecret,
      endpoints: [SLACK_EVENTS_PATH],
      logger,
    });
    app = new App({ ...common, receiver });
  }
  app.error(async (err) => {
    opts.deps.logger.error({ err }, "unhandled Slack listener error");
  });
  app.use(workspaceGuard(opts.deps, opts.teamId));
  registerListeners(app, opts.deps);
  registerTuning(app, opts.deps);
  registerRules(app, opts.deps);
  const mode = opts.appToken ? "socket" : "http";
  return {
    app,
    mode,
    requestListener: receiver?.requestListener,
    async start() {
      if (mode === "socket") await app.start();
    },
    async stop() {
      // Bolt's app.stop() resolves before the WebSocket is closed; this waits for the close
      // handshake (the client gives up on it after 30 s), so no envelope arrives after stop.
      if (socket) await socket.client.disconnect();
    },
  };
}

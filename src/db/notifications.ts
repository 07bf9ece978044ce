import type { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { type Logger, silentLogger } from "../lib/logger.js";
import type { DbOrTx } from "./client.js";

/**
 * Channels of changes every instance must hear about at once, one per kind. Lowercase: Postgres
 * folds unquoted names, and PGlite's listen() quotes nothing.
 */
export const CHANNELS = {
  /** An API token was created, revoked or given other scopes. */
  tokens: "leadbot_tokens",
} as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

export interface ListenHandlers {
  /** One notification's payload, delivered after the transaction that sent it committed. */
  message(payload: string): void;
  /**
   * Delivery stopped or started again (first LISTEN, connection lost, re-LISTEN): messages may
   * have been missed, so whatever was learnt from them must be dropped.
   */
  reset(): void;
}

export interface Subscription {
  /** True while every committed notification on the channel reaches this subscriber. */
  readonly live: boolean;
  close(): void;
}

export interface Notifications {
  /** Starts listening; `live` turns true (and `reset` runs) once the LISTEN is in place. */
  listen(channel: Channel, handlers: ListenHandlers): Subscription;
  close(): Promise<void>;
}

/**
 * Sends a notification as part of the caller's transaction: Postgres delivers it when that
 * transaction commits, and never when it rolls back.
 */
export async function notify(db: DbOrTx, channel: Channel, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/** How often the listening connection is checked, so a silently dead one is noticed. */
const HEARTBEAT_MS = 10_000;
/** A heartbeat that takes longer than this counts as a lost connection. */
const HEARTBEAT_TIMEOUT_MS = 5_000;
/** First wait before listening again after a loss; it doubles up to RETRY_MAX_MS. */
const RETRY_FIRST_MS = 100;
/** Longest wait between attempts while the server is away (a restart takes seconds). */
const RETRY_MAX_MS = 5_000;
/** How the listening connection shows in pg_stat_activity. */
export const LISTEN_APPLICATION_NAME = "leadbot-listen";

interface Subscriber {
  channel: Channel;
  handlers: ListenHandlers;
  live: boolean;
}

function subscription(s: Subscriber, remove: () => void): Subscription {
  return {
    get live() {
      return s.live;
    },
    close: remove,
  };
}

/** A handler that throws must not stop delivery to the others, nor the connection's reader. */
function safely(logger: Logger, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    logger.error({ err }, "notification handler failed");
  }
}

/**
 * Notifications over one dedicated Postgres connection. Its own reconnect loop (postgres.js's
 * sql.listen gives up for good when the server is still down at its one re-LISTEN): on a loss
 * every subscriber is reset and marked not live, then LISTEN is retried with backoff, and once
 * it is back each subscriber is reset again, since notifications sent meanwhile are gone.
 */
export function postgresNotifications(url: string, logger: Logger = silentLogger): Notifications {
  const subscribers = new Set<Subscriber>();
  let client: postgres.Sql | undefined;
  let listened = new Set<Channel>();
  let closed = false;
  let establishing: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryMs = RETRY_FIRST_MS;
  let heartbeat: NodeJS.Timeout | undefined;

  const deliver = (channel: string, payload: string) => {
    for (const s of subscribers)
      if (s.channel === channel && s.live) safely(logger, () => s.handlers.message(payload));
  };

  const lost = (from: postgres.Sql, reason: string) => {
    if (from !== client) return;
    const wasLive = listened.size > 0;
    listened = new Set();
    for (const s of subscribers) {
      const was = s.live;
      s.live = false;
      if (was) safely(logger, () => s.handlers.reset());
    }
    if (wasLive) logger.warn({ reason }, "notification connection lost; listening again");
    scheduleRetry();
  };

  const open = (): postgres.Sql => {
    const options: postgres.Options<Record<string, never>> & {
      onnotify: (channel: string, payload: string) => void;
    } = {
      max: 1,
      // Kept open for good: a recycled connection would drop its LISTENs.
      idle_timeout: 0,
      max_lifetime: null,
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: LISTEN_APPLICATION_NAME },
      // The connection option sql.listen itself uses: each NotificationResponse, as it arrives.
      onnotify: deliver,
      onclose: () => lost(created, "connection closed"),
    };
    const created = postgres(url, options);
    return created;
  };

  const scheduleRetry = () => {
    if (closed || retryTimer || subscribers.size === 0) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void establish();
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  };

  /** LISTENs on every channel a subscriber wants and not yet listened on this connection. */
  const listenAll = async (): Promise<void> => {
    try {
      client ??= open();
      const conn = client;
      // Again until none is missing: a subscriber may join while a LISTEN is on its way.
      for (;;) {
        const missing = [...subscribers].find((s) => !listened.has(s.channel))?.channel;
        if (missing === undefined) break;
        await conn.unsafe(`listen "${missing}"`);
        if (conn !== client || closed) return;
        listened.add(missing);
      }
      // Subscribers that joined a channel already listened on are live from here too.
      for (const s of subscribers) {
        if (s.live || !listened.has(s.channel)) continue;
        s.live = true;
        safely(logger, () => s.handlers.reset());
      }
      retryMs = RETRY_FIRST_MS;
      startHeartbeat();
    } catch (err) {
      if (closed) return;
      logger.debug({ err: (err as Error).message }, "LISTEN failed; trying again");
      if (client) lost(client, "listen failed");
      scheduleRetry();
    }
  };
  /** One listenAll at a time; it runs after the caller's turn, never inside listen(). */
  const establish = (): Promise<void> => {
    establishing ??= Promise.resolve()
      .then(listenAll)
      .finally(() => {
        establishing = undefined;
      });
    return establishing;
  };

  const startHeartbeat = () => {
    if (heartbeat || closed) return;
    heartbeat = setInterval(() => {
      const conn = client;
      if (!conn || listened.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("heartbeat timed out")), HEARTBEAT_TIMEOUT_MS);
      });
      Promise.race([conn.unsafe("select 1"), timeout])
        .catch((err: unknown) => {
          if (conn !== client || closed) return;
          // A connection that does not answer is replaced: its LISTENs may be gone.
          lost(conn, (err as Error).message);
          client = undefined;
          void conn.end({ timeout: 0 }).catch(() => {});
        })
        .finally(() => clearTimeout(timer));
    }, HEARTBEAT_MS);
    heartbeat.unref();
  };

  return {
    listen(channel, handlers) {
      if (closed) throw new Error("notifications are closed");
      const s: Subscriber = { channel, handlers, live: false };
      subscribers.add(s);
      void establish();
      return subscription(s, () => {
        subscribers.delete(s);
        s.live = false;
      });
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(heartbeat);
      for (const s of subscribers) s.live = false;
      subscribers.clear();
      const conn = client;
      client = undefined;
      await establishing;
      await conn?.end({ timeout: 1 });
    },
  };
}

/**
 * Notifications on the embedded database: one process holds it (see dir-lock.ts), so its own
 * LISTEN sees every change, delivered by PGlite when the sending transaction commits.
 */
export function pgliteNotifications(pg: PGlite, logger: Logger = silentLogger): Notifications {
  const subscribers = new Set<Subscriber>();
  const unlisten = new Map<Channel, Promise<() => Promise<void>>>();
  let closed = false;

  const deliver = (channel: Channel) => (payload: string) => {
    for (const s of subscribers)
      if (s.channel === channel && s.live) safely(logger, () => s.handlers.message(payload));
  };

  return {
    listen(channel, handlers) {
      if (closed) throw new Error("notifications are closed");
      const s: Subscriber = { channel, handlers, live: false };
      subscribers.add(s);
      let listening = unlisten.get(channel);
      if (!listening) {
        listening = pg.listen(channel, deliver(channel));
        unlisten.set(channel, listening);
      }
      listening.then(
        () => {
          if (!subscribers.has(s) || closed) return;
          s.live = true;
          safely(logger, () => s.handlers.reset());
        },
        (err: unknown) => logger.error({ err, channel }, "LISTEN failed on the embedded database"),
      );
      return subscription(s, () => {
        subscribers.delete(s);
        s.live = false;
      });
    },
    async close() {
      closed = true;
      for (const s of subscribers) s.live = false;
      subscribers.clear();
      // The database closes next; its LISTENs go with it.
      await Promise.allSettled(unlisten.values());
      unlisten.clear();
    },
  };
}

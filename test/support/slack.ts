import { randomBytes } from "node:crypto";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { type Env, loadEnv } from "../../src/config/env.js";
import type { Database } from "../../src/db/client.js";
import { createLogger, silentLogger } from "../../src/lib/logger.js";
import type { Services } from "../../src/services/index.js";
import { createSlackDriver, type SlackDriver } from "../../src/slack/local/driver.js";
import {
  SlackStandin,
  type StandinCall,
  type StoredMessage,
} from "../../src/slack/local/standin/index.js";

/**
 * The Slack test harness: a Web API stand-in, the real app (startLeadbot) pointed at it with a
 * signing secret, and a driver that signs requests the way Slack does. Everything goes over real
 * HTTP through the app's own `POST /slack/events`.
 */

export const TEST_ALERT_CHANNEL = "C0ALERTS01";
export const TEST_ADMIN = "U0ADMIN001";
export const TEST_MANAGER = "U0MANAGER1";
export const TEST_REP = "U0REP00001";
export const TEST_REP2 = "U0REP00002";

export interface SlackHarness {
  standin: SlackStandin;
  app: Leadbot;
  driver: SlackDriver;
  signingSecret: string;
  token: string;
  /** http://127.0.0.1:<port> of the app (ingest API, /healthz, /slack/events). */
  baseUrl: string;
  /** The bootstrap API token accepted by the ingest API. */
  apiToken: string;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** An opened database (from withDatabase); the harness does not close it. */
  database: Database;
  /** Extra environment (strings, as in process.env). */
  env?: Record<string, string>;
  /** A stand-in to share between app instances; one is started (and stopped) when absent. */
  standin?: SlackStandin;
  clock?: () => number;
  /** The alert dispatcher's poll interval (default 100 ms, so retries show up quickly). */
  alertPollMs?: number;
  /** Least time between posts to one channel (default 10 ms: tests need not wait Slack's second). */
  alertPaceMs?: number;
}

/** Starts the stand-in (unless given), then the app against it, then a driver for the app. */
export async function startSlackHarness(opts: HarnessOptions): Promise<SlackHarness> {
  const token = `xoxb-test-${randomBytes(6).toString("hex")}`;
  const signingSecret = randomBytes(16).toString("hex");
  const apiToken = `test-api-${randomBytes(12).toString("hex")}`;
  const ownStandin = !opts.standin;
  const standin = opts.standin ?? (await SlackStandin.start());
  const env: Env = loadEnv({
    SLACK_BOT_TOKEN: token,
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: standin.url,
    PORT: "0",
    LEADBOT_ALERT_CHANNEL: TEST_ALERT_CHANNEL,
    LEADBOT_ADMINS: TEST_ADMIN,
    LEADBOT_API_TOKEN: apiToken,
    LEADBOT_DECAY_CRON: "off",
    LEADBOT_DEMO: "off",
    LOG_LEVEL: "silent",
    ...opts.env,
  });
  let app: Leadbot;
  try {
    app = await startLeadbot({
      env,
      // TEST_LOG_LEVEL=error shows what the app logs while a suite runs (for a failing property).
      logger: process.env.TEST_LOG_LEVEL ? createLogger(process.env.TEST_LOG_LEVEL) : silentLogger,
      database: opts.database,
      clock: opts.clock,
      alertPollMs: opts.alertPollMs ?? 100,
      alertPaceMs: opts.alertPaceMs ?? 10,
    });
  } catch (err) {
    if (ownStandin) await standin.close();
    throw err;
  }
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const driver = createSlackDriver({ url: `${baseUrl}/slack/events`, signingSecret, standin });
  return {
    standin,
    app,
    driver,
    signingSecret,
    token,
    baseUrl,
    apiToken,
    async stop() {
      await app.stop();
      if (ownStandin) await standin.close();
    },
  };
}

/** Resolves with the first recorded call that matches, waiting for it when it has not come yet. */
export function waitForCall(
  standin: SlackStandin,
  match: (c: StandinCall) => boolean,
  timeoutMs = 10_000,
): Promise<StandinCall> {
  const seen = standin.calls.find((c) => c.response !== undefined && match(c));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      standin.off("call", on);
      reject(new Error(`no matching Slack call within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (c: StandinCall) => {
      if (!match(c)) return;
      clearTimeout(timer);
      standin.off("call", on);
      resolve(c);
    };
    standin.on("call", on);
  });
}

/** The first response_url post of a request, within a time limit. */
export async function answerTo(
  standin: SlackStandin,
  responseId: string | undefined,
  timeoutMs = 10_000,
) {
  if (!responseId) throw new Error("the request carried no response_url");
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      standin.waitForResponse(responseId),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer on response_url within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` every `stepMs` until it returns a value (not undefined), or fails after
 * `timeoutMs`. A bound that is itself the assertion (propagation within a second) polls finer.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  stepMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** All the text of an answer's blocks, for assertions on what a person reads. */
export function textOf(payload: unknown): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "text" && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(payload);
  return out.join("\n");
}

/**
 * A hot lead (A-grade, demo + meeting + trial) ingested through the services, the way the API
 * does it; resolves with the alert the running dispatcher posted for it. The message is a copy:
 * the stand-in rewrites its stored message on chat.update, while a second person's client may
 * still show the buttons as first posted.
 */
export async function hotLeadAlert(
  services: Services,
  standin: SlackStandin,
  p: { email: string; lastName?: string; company?: string; owner?: string },
): Promise<{ message: StoredMessage; leadId: number }> {
  const upserted = await services.upsertLeads([
    {
      email: p.email,
      firstName: "Hot",
      lastName: p.lastName ?? "Lead",
      title: "VP Sales",
      company: p.company ?? "Acme",
      industry: "Software",
      employees: 900,
      country: "US",
      ...(p.owner ? { owner: p.owner } : {}),
    },
  ]);
  const leadId = upserted.leads[0]?.id;
  if (leadId === undefined)
    throw new Error(`lead ${p.email} was not stored: ${JSON.stringify(upserted.errors)}`);
  const now = new Date(services.clock()).toISOString();
  const r = await services.recordEvents(
    ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
      id: `${p.email}-${i}`,
      email: p.email,
      type,
      occurredAt: now,
    })),
  );
  if (r.errors.length > 0) throw new Error(`events refused: ${JSON.stringify(r.errors)}`);
  await services.scoring.flush();
  if ((await services.leads.get(`id:${leadId}`)).stage === "lead")
    throw new Error(`lead ${p.email} crossed no threshold`);
  const message = await eventually(() =>
    standin
      .messages(TEST_ALERT_CHANNEL)
      .find((m) => Number(m.metadata?.event_payload.lead_id) === leadId),
  );
  return { message: structuredClone(message), leadId };
}

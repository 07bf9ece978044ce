import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices } from "../../src/services/index.js";
import { createSlackApp } from "../../src/slack/app.js";
import { createSlackDriver } from "../../src/slack/local/driver.js";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import { type TestDatabase, withDatabase } from "../support/db.js";

describe("Slack app wiring", () => {
  let tdb: TestDatabase;
  let standin: SlackStandin;

  beforeAll(async () => {
    tdb = await withDatabase({ name: "pglite", url: "memory://" });
    standin = await SlackStandin.start({ token: "xoxb-the-right-one" });
  });

  afterAll(async () => {
    await standin?.close();
    await tdb?.cleanup();
  });

  const deps = () => ({
    services: createServices({ database: tdb.database, logger: silentLogger }),
    alertChannel: undefined,
    admins: [],
    logger: silentLogger,
    clock: Date.now,
  });

  it("when an app-level token is given, then the app runs in Socket Mode with no HTTP listener", () => {
    const slack = createSlackApp({
      botToken: "xoxb-x",
      appToken: "xapp-1-x",
      botId: "B1",
      botUserId: "U1",
      deps: deps(),
    });
    expect(slack.mode).toBe("socket");
    expect(slack.requestListener).toBeUndefined();
  });

  it("when HTTP mode has a signing secret, then a request listener is there to mount", () => {
    const slack = createSlackApp({
      botToken: "xoxb-x",
      signingSecret: "s",
      botId: "B1",
      botUserId: "U1",
      deps: deps(),
    });
    expect(slack.mode).toBe("http");
    expect(typeof slack.requestListener).toBe("function");
    expect(() =>
      createSlackApp({ botToken: "xoxb-x", botId: "B1", botUserId: "U1", deps: deps() }),
    ).toThrow("SLACK_SIGNING_SECRET is required");
  });

  it("when Slack refuses the bot token, then start-up stops and says which setting to fix", async () => {
    const env = loadEnv({
      SLACK_BOT_TOKEN: "xoxb-the-wrong-one",
      SLACK_SIGNING_SECRET: "secret",
      SLACK_API_URL: standin.url,
      PORT: "0",
      LEADBOT_DECAY_CRON: "off",
      LEADBOT_DEMO: "off",
    });
    await expect(
      startLeadbot({ env, logger: silentLogger, database: tdb.database }),
    ).rejects.toThrow("Slack refused SLACK_BOT_TOKEN (invalid_auth)");
  });

  it("when the token is right, then the app starts and answers Slack's URL verification", async () => {
    const env = loadEnv({
      SLACK_BOT_TOKEN: "xoxb-the-right-one",
      SLACK_SIGNING_SECRET: "secret",
      SLACK_API_URL: standin.url,
      PORT: "0",
      LEADBOT_DECAY_CRON: "off",
      LEADBOT_DEMO: "off",
    });
    const app = await startLeadbot({ env, logger: silentLogger, database: tdb.database });
    try {
      const driver = createSlackDriver({
        url: `http://127.0.0.1:${app.port}/slack/events`,
        signingSecret: "secret",
      });
      const res = await driver.signed(
        JSON.stringify({ type: "url_verification", challenge: "abc123" }),
        "application/json",
      );
      expect(res.status).toBe(200);
      expect(res.body).toContain("abc123");
      const health = await fetch(`http://127.0.0.1:${app.port}/healthz`);
      expect(health.status).toBe(200);
    } finally {
      await app.stop();
    }
  });
});

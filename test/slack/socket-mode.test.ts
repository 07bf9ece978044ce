import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { outcomes } from "../../src/db/schema.js";
import { silentLogger } from "../../src/lib/logger.js";
import { ensureModel } from "../../src/services/models.js";
import { ALERT_WON } from "../../src/slack/ids.js";
import { signSlackRequest } from "../../src/slack/local/driver.js";
import {
  type Params,
  SlackStandin,
  type StoredMessage,
} from "../../src/slack/local/standin/index.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  hotLeadAlert,
  TEST_ALERT_CHANNEL,
  TEST_REP,
  textOf,
  waitForCall,
} from "../support/slack.js";

/**
 * Socket Mode end to end: the real app (startLeadbot with an xapp- token) opens its WebSocket on
 * the stand-in, which delivers envelopes the way Slack does and reads the app's acks.
 */

interface Block {
  type: string;
  elements?: { action_id?: string; value?: string }[];
}

const TEAM = { id: "T0LOCAL01", domain: "leadbot-local" };

describe.each(testDatabases())("Socket Mode on $name", (config) => {
  let tdb: TestDatabase;
  let standin: SlackStandin;
  let app: Leadbot;
  let seq = 0;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    standin = await SlackStandin.start();
    const env = loadEnv({
      SLACK_BOT_TOKEN: `xoxb-test-${randomBytes(6).toString("hex")}`,
      SLACK_APP_TOKEN: `xapp-1-A0LEADBOT-1-${randomBytes(6).toString("hex")}`,
      SLACK_API_URL: standin.url,
      LEADBOT_ALERT_CHANNEL: TEST_ALERT_CHANNEL,
      PORT: "0",
      LEADBOT_DEMO: "off",
      LEADBOT_DECAY_CRON: "off",
      LOG_LEVEL: "silent",
    });
    app = await startLeadbot({
      env,
      logger: silentLogger,
      database: tdb.database,
      alertPollMs: 100,
      alertPaceMs: 10,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await standin?.close();
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    await truncateAll(tdb.database.db);
    await ensureModel(tdb.database.db);
    standin.reset();
  });

  function nextId(kind: string): string {
    seq += 1;
    return `${kind}-${seq}-${randomBytes(3).toString("hex")}`;
  }

  /** `/lead <text>` as Slack delivers it in Socket Mode; the command's response_url is recorded. */
  async function command(text: string) {
    const responseId = nextId("command");
    const ack = await standin.deliver("slash_commands", {
      token: "local-verification-token",
      team_id: TEAM.id,
      team_domain: TEAM.domain,
      channel_id: "C0LOCAL01",
      channel_name: "general",
      user_id: TEST_REP,
      user_name: TEST_REP.toLowerCase(),
      command: "/lead",
      text,
      api_app_id: "A0LEADBOT",
      is_enterprise_install: "false",
      response_url: standin.responseUrl(responseId),
      trigger_id: `${Date.now()}.${randomBytes(4).toString("hex")}`,
    });
    return { ack, responseId };
  }

  /** A hot lead ingested through the services: the dispatcher posts its alert. */
  function alertFor(): Promise<{ message: StoredMessage; leadId: number }> {
    return hotLeadAlert(app.services, standin, { email: `hot${nextId("lead")}@acme.com` });
  }

  it("when the app starts, then it opens one Socket Mode connection with the app-level token", async () => {
    await standin.waitForSocket();
    expect(standin.socketConnections).toBe(1);
    expect(app.slack?.mode).toBe("socket");
  });

  it("when /lead help arrives, then the help is the ack's payload", async () => {
    const { ack, responseId } = await command("help");
    expect(ack?.response_type).toBe("ephemeral");
    const text = textOf(ack);
    expect(text).toContain("/lead top");
    expect(text).toContain("/lead why");
    // Help needs nothing more: nothing is posted to the response_url.
    expect(standin.responses(responseId)).toEqual([]);
  });

  it("when /lead top 5 arrives, then it is acked empty and the list is posted to the response_url", async () => {
    await app.services.upsertLeads(
      [1, 2, 3].map((n) => ({
        email: `person${n}@company${n}.com`,
        firstName: "Person",
        lastName: String(n),
        title: "VP of Sales",
        company: `Company ${n}`,
        employees: 500,
        country: "US",
      })),
    );
    await app.services.recordEvents([
      {
        id: "top-1",
        email: "person2@company2.com",
        type: "pricing_page",
        occurredAt: new Date(app.services.clock()).toISOString(),
      },
    ]);
    await app.services.scoring.flush();
    const { ack, responseId } = await command("top 5");
    expect(ack).toEqual({});
    const answer = await answerTo(standin, responseId);
    expect(answer.payload.response_type).toBe("ephemeral");
    const text = textOf(answer.payload);
    expect(text).toContain("Top 5 leads");
    for (const n of [1, 2, 3]) expect(text).toContain(`Person ${n}`);
  });

  it("when Won is pressed on an alert, then the outcome is recorded and the alert is updated", async () => {
    const { message, leadId } = await alertFor();
    const won = (message.blocks as Block[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === ALERT_WON);
    expect(won?.value).toBeDefined();
    const responseId = nextId("action");
    const payload: Params = {
      type: "block_actions",
      user: { id: TEST_REP, username: TEST_REP.toLowerCase(), team_id: TEAM.id },
      api_app_id: "A0LEADBOT",
      token: "local-verification-token",
      trigger_id: `${Date.now()}.${randomBytes(4).toString("hex")}`,
      team: TEAM,
      enterprise: null,
      is_enterprise_install: false,
      container: {
        type: "message",
        message_ts: message.ts,
        channel_id: TEST_ALERT_CHANNEL,
        is_ephemeral: false,
      },
      channel: { id: TEST_ALERT_CHANNEL, name: "leads" },
      message: {
        type: "message",
        user: message.user,
        ts: message.ts,
        text: message.text,
        blocks: message.blocks,
      },
      response_url: standin.responseUrl(responseId),
      actions: [
        {
          type: "button",
          action_id: ALERT_WON,
          block_id: "alert_actions",
          value: won?.value,
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    await standin.deliver("interactive", payload);
    const update = await waitForCall(standin, (c) => c.method === "chat.update");
    expect(update.params).toMatchObject({ channel: TEST_ALERT_CHANNEL, ts: message.ts });
    expect(textOf(update.params.blocks)).toContain(`Marked *Won* by <@${TEST_REP}>`);
    const rows = await eventually(async () => {
      const found = await tdb.database.db
        .select()
        .from(outcomes)
        .where(eq(outcomes.leadId, leadId));
      return found.length > 0 ? found : undefined;
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: "won",
      byUser: TEST_REP,
      source: "slack-alert",
      alertId: Number(message.metadata?.event_payload.alert_id),
    });
  });

  it("when an app_home_opened event arrives, then it is acked and the home tab is published", async () => {
    const ack = await standin.deliver("events_api", {
      token: "local-verification-token",
      team_id: TEAM.id,
      api_app_id: "A0LEADBOT",
      type: "event_callback",
      event_id: `Ev${randomBytes(5).toString("hex").toUpperCase()}`,
      event_time: Math.floor(Date.now() / 1000),
      event: {
        type: "app_home_opened",
        user: TEST_REP,
        channel: standin.dmChannel(TEST_REP),
        tab: "home",
        event_ts: `${Date.now() / 1000}`,
      },
      authorizations: [
        {
          team_id: TEAM.id,
          user_id: standin.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
    });
    expect(ack).toEqual({});
    const publish = await waitForCall(standin, (c) => c.method === "views.publish");
    expect(publish.params.user_id).toBe(TEST_REP);
  });

  it("when a signed request is posted to /slack/events, then it is not found, and /healthz answers", async () => {
    const base = `http://127.0.0.1:${app.port}`;
    const body = new URLSearchParams({ command: "/lead", text: "help" }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const res = await fetch(`${base}/slack/events`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(ts),
        "x-slack-signature": signSlackRequest("any-secret", ts, body),
      },
      body,
    });
    expect(res.status).toBe(404);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });
  });
});

describe("Socket Mode connection", () => {
  let tdb: TestDatabase;
  let standin: SlackStandin;
  let app: Leadbot;
  const appToken = "xapp-1-A0LEADBOT-1-connection";

  beforeAll(async () => {
    tdb = await withDatabase(testDatabases()[0] ?? { name: "pglite", url: "memory://" });
    standin = await SlackStandin.start();
    app = await startLeadbot({
      env: loadEnv({
        SLACK_BOT_TOKEN: "xoxb-test-connection",
        SLACK_APP_TOKEN: appToken,
        SLACK_API_URL: standin.url,
        PORT: "0",
        LEADBOT_DEMO: "off",
        LEADBOT_DECAY_CRON: "off",
        LOG_LEVEL: "silent",
      }),
      logger: silentLogger,
      database: tdb.database,
    });
    await standin.waitForSocket();
  });

  afterAll(async () => {
    await app?.stop();
    await standin?.close();
    await tdb?.cleanup();
  });

  it("when Slack asks for a reconnect while apps.connections.open is failing, then the app keeps trying and reconnects", async () => {
    // More failures in a row than the quick retries of listener calls allow.
    standin.failNext("apps.connections.open", { status: 503 }, 4);
    const before = standin.callsTo("apps.connections.open").length;
    const reopened = new Promise<void>((resolve) => standin.once("socket_open", () => resolve()));
    standin.disconnectSockets("refresh_requested");
    await reopened;
    const opens = standin.callsTo("apps.connections.open").slice(before);
    expect(opens.map((c) => c.failed !== undefined)).toEqual([true, true, true, true, false]);
    expect(opens.every((c) => c.token === appToken)).toBe(true);
    expect(standin.socketConnections).toBe(1);
    // The new connection carries commands.
    const ack = await standin.deliver("slash_commands", {
      command: "/lead",
      text: "help",
      user_id: TEST_REP,
      team_id: TEAM.id,
      channel_id: "C0LOCAL01",
      response_url: standin.responseUrl("after-reconnect"),
      trigger_id: "1.2",
    });
    expect(textOf(ack)).toContain("/lead top");
  }, 30_000);

  it("when the app stops, then its WebSocket is closed by the time stop resolves", async () => {
    const opened = standin.callsTo("apps.connections.open").length;
    await app.stop();
    expect(standin.socketConnections).toBe(0);
    // A stopped app asks for no new connection.
    expect(standin.callsTo("apps.connections.open")).toHaveLength(opened);
  });
});

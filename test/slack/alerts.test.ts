import { once } from "node:events";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, execRows, openDatabase } from "../../src/db/client.js";
import { alertOutbox } from "../../src/db/schema.js";
import { silentLogger } from "../../src/lib/logger.js";
import {
  backoffSeconds,
  createOutboxDispatcher,
  type OutboxDispatcherOptions,
} from "../../src/services/outbox/dispatcher.js";
import { createSlackClient, type WebClient } from "../../src/slack/client.js";
import { decodeAlertAction } from "../../src/slack/ids.js";
import {
  type SlackStandin,
  SlackStandin as Standin,
  type StandinCall,
} from "../../src/slack/local/standin/index.js";
import { classifySlackError } from "../../src/slack/sink/errors.js";
import { createSlackSink } from "../../src/slack/sink/index.js";
import {
  TEST_DATABASE_URL,
  type TestDatabase,
  testDatabases,
  truncateAll,
  withDatabase,
} from "../support/db.js";
import { insertAlert } from "../support/factories.js";

const TOKEN = "xoxb-test-token";
const CHANNEL = "C0ALERTS01";

interface Block {
  type: string;
  block_id?: string;
  elements?: { type: string; text?: { text: string }; value?: string; action_id?: string }[];
}

async function outboxRow(db: Database["db"], id: number) {
  const [row] = await db.select().from(alertOutbox).where(eq(alertOutbox.id, id));
  if (!row) throw new Error(`alert ${id} missing`);
  return row;
}

/** Makes every pending row due now: time moves by data, not by sleeping. */
async function makeDue(db: Database["db"]): Promise<void> {
  await db.execute(sql`update alert_outbox set next_attempt_at = now() where status = 'pending'`);
}

async function secondsUntilDue(db: Database["db"], id: number): Promise<number> {
  const [row] = await execRows<{ s: number }>(
    db,
    sql`select date_part('epoch', next_attempt_at - now())::float8 as s from alert_outbox where id = ${id}`,
  );
  return Number(row?.s);
}

function alertIdsPosted(standin: SlackStandin, channel: string): number[] {
  return standin
    .messages(channel)
    .map((m) => Number(m.metadata?.event_payload.alert_id))
    .sort((a, b) => a - b);
}

describe.each(testDatabases())("alert dispatcher on $name", (config) => {
  let tdb: TestDatabase;
  let standin: SlackStandin;
  let slack: WebClient;
  let db: Database["db"];

  function dispatcher(over: Partial<OutboxDispatcherOptions> = {}) {
    return createOutboxDispatcher({
      db,
      kind: tdb.database.kind,
      sink: createSlackSink(slack),
      channel: CHANNEL,
      instanceId: "test-instance",
      logger: silentLogger,
      random: () => 0.5,
      paceMs: 5,
      ...over,
    });
  }

  beforeAll(async () => {
    tdb = await withDatabase(config);
    db = tdb.database.db;
    standin = await Standin.start({ token: TOKEN });
    slack = createSlackClient(TOKEN, standin.url, { timeoutMs: 5_000 });
  });

  afterAll(async () => {
    await standin?.close();
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    await truncateAll(db);
    standin.reset();
  });

  it("when one alert is due, then it is posted once with its buttons and metadata", async () => {
    const a = await insertAlert(db, {
      lead: { firstName: "Jane", lastName: "Roe", email: "jane@acme.com", company: "Acme" },
    });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });

    const posts = standin.callsTo("chat.postMessage");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.token).toBe(TOKEN);
    const [message] = standin.messages(CHANNEL);
    expect(message?.metadata).toEqual({
      event_type: "leadbot_alert",
      event_payload: { alert_id: a.alertId, lead_id: a.leadId, stage: "sql" },
    });
    expect(message?.text).toContain("New SQL: Jane Roe (jane@acme.com)");
    const actions = ((message?.blocks ?? []) as Block[]).find((b) => b.type === "actions");
    expect(actions?.elements?.map((e) => e.text?.text)).toEqual([
      "Won",
      "Lost",
      "Not a fit",
      "Claim",
    ]);
    for (const e of actions?.elements ?? []) {
      expect(decodeAlertAction(e.value)).toEqual({ alertId: a.alertId, leadId: a.leadId });
    }

    const row = await outboxRow(db, a.alertId);
    expect(row).toMatchObject({
      status: "sent",
      attempts: 1,
      channel: CHANNEL,
      messageTs: message?.ts,
      claimedBy: null,
      lastError: null,
    });
    expect(row.sentAt).toBeInstanceOf(Date);
  });

  it("when 20 alerts are due for one channel, then Slack receives them at least the pace interval apart", async () => {
    const paceMs = 40;
    for (let i = 0; i < 20; i++) await insertAlert(db, { lead: { owner: null } });
    const d = dispatcher({ paceMs });

    let sent = 0;
    for (let round = 0; round < 5 && sent < 20; round++) sent += (await d.runOnce()).sent;
    expect(sent).toBe(20);
    const at = standin.callsTo("chat.postMessage").map((c) => c.at);
    expect(at).toHaveLength(20);
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(paceMs);
  });

  it("when Slack answers 429, then Retry-After is honoured without counting a failure", async () => {
    const a = await insertAlert(db);
    standin.failNext("chat.postMessage", { status: 429, retryAfter: 30 });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    const row = await outboxRow(db, a.alertId);
    expect(row).toMatchObject({ status: "pending", attempts: 0, lastError: "ratelimited" });
    const wait = await secondsUntilDue(db, a.alertId);
    expect(wait).toBeGreaterThan(25);
    expect(wait).toBeLessThanOrEqual(30);

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });
    await makeDue(db);
    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(standin.messages(CHANNEL)).toHaveLength(1);
    // The 429 never reached Slack's handler, so there was nothing to reconcile.
    expect(standin.callsTo("conversations.history")).toHaveLength(0);
  });

  it("when Slack answers 500, then the alert is retried with backoff and then sent once", async () => {
    const a = await insertAlert(db);
    standin.failNext("chat.postMessage", { status: 500 });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    const row = await outboxRow(db, a.alertId);
    expect(row).toMatchObject({ status: "pending", attempts: 1, lastError: "http_500" });
    expect(await secondsUntilDue(db, a.alertId)).toBeGreaterThan(0);

    await makeDue(db);
    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(standin.callsTo("conversations.history")).toHaveLength(1);
    expect(alertIdsPosted(standin, CHANNEL)).toEqual([a.alertId]);
    expect(await outboxRow(db, a.alertId)).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("when Slack is down for a period, then every alert is delivered exactly once after", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await insertAlert(db)).alertId);
    standin.failFor("*", 3_600_000, { status: 503 });
    const d = dispatcher();

    for (let round = 0; round < 4; round++) {
      const r = await d.runOnce();
      expect(r.sent).toBe(0);
      await makeDue(db);
    }
    expect(standin.allMessages()).toHaveLength(0);
    const pending = await db.select().from(alertOutbox).where(eq(alertOutbox.status, "pending"));
    expect(pending).toHaveLength(5);

    standin.recover();
    let sent = 0;
    for (let round = 0; round < 5 && sent < 5; round++) {
      sent += (await d.runOnce()).sent;
      await makeDue(db);
    }
    expect(sent).toBe(5);
    expect(alertIdsPosted(standin, CHANNEL)).toEqual(ids);
  });

  it("when the process died after posting, then the next run finds the post and does not repeat it", async () => {
    const a = await insertAlert(db);
    // The earlier run posted and then died before recording the ts.
    const earlier = await slack.chat.postMessage({
      channel: CHANNEL,
      text: "New SQL",
      metadata: {
        event_type: "leadbot_alert",
        event_payload: { alert_id: a.alertId, lead_id: a.leadId, stage: "sql" },
      },
    });
    await db.update(alertOutbox).set({ attempts: 1 }).where(eq(alertOutbox.id, a.alertId));
    standin.calls.length = 0;

    expect(await dispatcher().runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(standin.callsTo("chat.postMessage")).toHaveLength(0);
    const history = standin.callsTo("conversations.history");
    expect(history[0]?.params).toMatchObject({ channel: CHANNEL, include_all_metadata: "true" });
    expect(await outboxRow(db, a.alertId)).toMatchObject({
      status: "sent",
      messageTs: earlier.ts,
    });
    expect(standin.messages(CHANNEL)).toHaveLength(1);
  });

  it("when Slack posts but the answer is lost to a timeout, then the retry reconciles", async () => {
    const a = await insertAlert(db);
    standin.failNext("chat.postMessage", { hangMs: 800 });
    const impatient = createSlackClient(TOKEN, standin.url, { timeoutMs: 200 });
    const posted = new Promise<void>((resolve) => {
      const onCall = (c: StandinCall) => {
        if (c.method === "chat.postMessage") {
          standin.off("call", onCall);
          resolve();
        }
      };
      standin.on("call", onCall);
    });
    const d = dispatcher({ sink: createSlackSink(impatient) });

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    expect((await outboxRow(db, a.alertId)).lastError).toMatch(/^request_failed/);
    await posted;
    expect(standin.messages(CHANNEL)).toHaveLength(1);

    await makeDue(db);
    expect(await dispatcher().runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(standin.callsTo("chat.postMessage")).toHaveLength(1);
    expect(alertIdsPosted(standin, CHANNEL)).toEqual([a.alertId]);
    expect((await outboxRow(db, a.alertId)).messageTs).toBe(standin.messages(CHANNEL)[0]?.ts);
  });

  it("when the channel is wrong, then the row fails after a few attempts with the error", async () => {
    const a = await insertAlert(db);
    standin.failNext("chat.postMessage", { error: "channel_not_found" }, 5);
    const d = dispatcher();

    for (let i = 0; i < 3; i++) {
      await d.runOnce();
      await makeDue(db);
    }
    expect(await outboxRow(db, a.alertId)).toMatchObject({
      status: "failed",
      attempts: 3,
      lastError: "channel_not_found",
    });
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });
    expect(standin.allMessages()).toHaveLength(0);
  });

  it("when the lead has an owner, then the owner also gets a DM, once", async () => {
    const a = await insertAlert(db, { lead: { owner: "U0OWNER01" } });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    await makeDue(db);
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });

    const dm = standin.dmChannel("U0OWNER01");
    expect(alertIdsPosted(standin, CHANNEL)).toEqual([a.alertId]);
    expect(alertIdsPosted(standin, dm)).toEqual([a.alertId]);
    expect(standin.callsTo("conversations.open")[0]?.params).toMatchObject({ users: "U0OWNER01" });
    const row = await outboxRow(db, a.alertId);
    expect(row).toMatchObject({ status: "sent", dmUser: "U0OWNER01" });
    expect(row.dmTs).toBe(standin.messages(dm)[0]?.ts);
    const fields = JSON.stringify(standin.messages(CHANNEL)[0]?.blocks);
    expect(fields).toContain("<@U0OWNER01>");
  });

  it("when the DM fails after the channel post, then the channel is not posted again", async () => {
    const a = await insertAlert(db, { lead: { owner: "U0OWNER02" } });
    standin.failNext("conversations.open", { status: 502 });
    const d = dispatcher();

    expect(await d.runOnce()).toEqual({ sent: 0, retried: 1 });
    expect(standin.messages(CHANNEL)).toHaveLength(1);
    await makeDue(db);
    expect(await d.runOnce()).toEqual({ sent: 1, retried: 0 });
    expect(standin.messages(CHANNEL)).toHaveLength(1);
    expect(alertIdsPosted(standin, standin.dmChannel("U0OWNER02"))).toEqual([a.alertId]);
  });

  it("when no channel is configured, then alerts stay pending and nothing is called", async () => {
    const a = await insertAlert(db);
    const d = dispatcher({ channel: undefined });
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });
    expect(await d.runOnce()).toEqual({ sent: 0, retried: 0 });
    expect(standin.calls).toHaveLength(0);
    expect(await outboxRow(db, a.alertId)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("when started and woken, then a new alert goes out without waiting for the poll", async () => {
    const d = dispatcher({ pollMs: 3_600_000 });
    d.start();
    const a = await insertAlert(db);
    const posted = once(standin, "call");
    d.wake();
    const [call] = (await posted) as [StandinCall];
    expect(call.method).toBe("chat.postMessage");
    await d.stop();
    await d.runOnce();
    expect(alertIdsPosted(standin, CHANNEL)).toEqual([a.alertId]);
    expect((await outboxRow(db, a.alertId)).status).toBe("sent");
  });
});

describe("alert retry policy", () => {
  it("when failures repeat, then the backoff grows and stops at five minutes", () => {
    const mid = () => 0.5;
    expect(backoffSeconds(1, mid)).toBeLessThan(backoffSeconds(4, mid));
    expect(backoffSeconds(50, () => 0.999)).toBeLessThanOrEqual(300);
    expect(backoffSeconds(50, () => 0)).toBeGreaterThanOrEqual(150);
  });

  it("when Slack reports a setup problem, then it is permanent; server trouble is transient", () => {
    const platform = (error: string) => ({
      code: "slack_webapi_platform_error",
      data: { ok: false, error },
    });
    expect(classifySlackError(platform("not_in_channel")).kind).toBe("permanent");
    expect(classifySlackError(platform("invalid_auth")).kind).toBe("permanent");
    expect(classifySlackError(platform("internal_error")).kind).toBe("transient");
    expect(classifySlackError({ code: "slack_webapi_http_error", statusCode: 503 }).kind).toBe(
      "transient",
    );
    expect(
      classifySlackError({ code: "slack_webapi_rate_limited_error", retryAfter: 7 }),
    ).toMatchObject({ kind: "rate_limited", retryAfterMs: 7_000, detail: "ratelimited" });
    expect(
      classifySlackError({ code: "slack_webapi_request_error", message: "timeout" }).kind,
    ).toBe("transient");
  });
});

// Runs only in the Postgres pass (TEST_DATABASE_URL set): PGlite is one connection in one
// process, so there is no race to test there. Without it the suite shows as skipped.
describe.skipIf(!TEST_DATABASE_URL)(
  "alert dispatcher: two instances on one Postgres (skipped: set TEST_DATABASE_URL to a Postgres server)",
  () => {
    let tdb: TestDatabase;
    let second: Database;
    let standin: SlackStandin;

    beforeAll(async () => {
      const [config] = testDatabases().filter((c) => c.name === "postgres");
      if (!config) throw new Error("TEST_DATABASE_URL is set but no Postgres config was made");
      tdb = await withDatabase(config);
      second = await openDatabase({ url: tdb.url, maxConnections: 5 });
      standin = await Standin.start({ token: TOKEN });
    });

    afterAll(async () => {
      await standin?.close();
      await second?.close();
      await tdb?.cleanup();
    });

    it("when two dispatchers race over 50 alerts, then each alert is posted exactly once", async () => {
      const ids: number[] = [];
      for (let i = 0; i < 50; i++) ids.push((await insertAlert(tdb.database.db)).alertId);
      const make = (database: Database, instanceId: string) =>
        createOutboxDispatcher({
          db: database.db,
          kind: "postgres",
          sink: createSlackSink(createSlackClient(TOKEN, standin.url)),
          channel: CHANNEL,
          instanceId,
          logger: silentLogger,
          paceMs: 2,
        });
      const a = make(tdb.database, "instance-a");
      const b = make(second, "instance-b");

      let sent = 0;
      for (let round = 0; round < 10 && sent < 50; round++) {
        const results = await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
        sent += results.reduce((n, r) => n + r.sent, 0);
      }
      expect(sent).toBe(50);
      expect(alertIdsPosted(standin, CHANNEL)).toEqual(ids);
      expect(standin.callsTo("chat.postMessage")).toHaveLength(50);
      const claimedBy = await execRows<{ instance: string | null; n: number }>(
        tdb.database.db,
        sql`select status as instance, count(*)::int as n from alert_outbox group by status`,
      );
      expect(claimedBy).toEqual([{ instance: "sent", n: 50 }]);
    });
  },
);

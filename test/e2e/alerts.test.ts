import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/client.js";
import { ensureModel } from "../../src/services/models.js";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import {
  TEST_DATABASE_URL,
  type TestDatabase,
  testDatabases,
  truncateAll,
  withDatabase,
} from "../support/db.js";
import {
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ALERT_CHANNEL,
} from "../support/slack.js";

/**
 * From the ingest API to a Slack post, through the real app: leads and events go in over HTTP,
 * the scorer queues an alert in the same transaction, and the dispatcher delivers it to the Web
 * API stand-in, which can fail on purpose.
 */

async function api(h: SlackHarness, path: string, body: unknown) {
  const res = await fetch(`${h.baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${h.apiToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { errors?: unknown[] };
  expect(res.status).toBe(200);
  expect(json.errors).toEqual([]);
  return json;
}

let seq = 0;
async function ingestHotLead(h: SlackHarness): Promise<string> {
  seq += 1;
  const email = `e2e${seq}-${Date.now()}@bigco${seq}.com`;
  await api(h, "/api/v1/leads", {
    leads: [
      {
        email,
        firstName: "Dana",
        lastName: `E2E ${seq}`,
        title: "VP Marketing",
        company: `BigCo ${seq}`,
        industry: "Software",
        employees: 1200,
        country: "US",
      },
    ],
  });
  const at = new Date().toISOString();
  await api(h, "/api/v1/events", {
    events: ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
      id: `${email}-${i}`,
      email,
      type,
      occurredAt: at,
    })),
  });
  return email;
}

function postedAlertIds(standin: SlackStandin): number[] {
  return standin
    .messages(TEST_ALERT_CHANNEL)
    .map((m) => Number(m.metadata?.event_payload.alert_id))
    .sort((a, b) => a - b);
}

describe.each(testDatabases())("alert delivery end to end on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({ database: tdb.database });
  });

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    await truncateAll(tdb.database.db);
    await ensureModel(tdb.database.db);
    h.standin.reset();
  });

  it("when an event over HTTP makes a lead an SQL, then one alert is posted with its buttons", async () => {
    const email = await ingestHotLead(h);
    const [message] = await eventually(() => {
      const m = h.standin.messages(TEST_ALERT_CHANNEL);
      return m.length > 0 ? m : undefined;
    });
    expect(message?.text).toContain(email);
    expect(message?.metadata?.event_type).toBe("leadbot_alert");
    expect(JSON.stringify(message?.blocks)).toContain("alert_claim");
    expect(h.standin.callsTo("chat.postMessage")).toHaveLength(1);
  });

  it("when Slack answers 429 with Retry-After, then the alert is posted once after the wait", async () => {
    h.standin.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    await ingestHotLead(h);
    await eventually(() => (h.standin.messages(TEST_ALERT_CHANNEL).length > 0 ? true : undefined));
    const calls = h.standin.callsTo("chat.postMessage");
    expect(calls.map((c) => (c.failed && "status" in c.failed ? c.failed.status : "ok"))).toEqual([
      429,
      "ok",
    ]);
    expect(calls[1]?.at ?? 0).toBeGreaterThanOrEqual((calls[0]?.at ?? 0) + 900);
    expect(h.standin.messages(TEST_ALERT_CHANNEL)).toHaveLength(1);
  });

  it("when Slack answers 5xx, then the alert is retried, reconciled and posted once", async () => {
    h.standin.failNext("chat.postMessage", { status: 503 });
    await ingestHotLead(h);
    await eventually(() => (h.standin.messages(TEST_ALERT_CHANNEL).length > 0 ? true : undefined));
    expect(h.standin.callsTo("chat.postMessage")).toHaveLength(2);
    // The 503 might have been posted anyway: the retry looks for its own post first.
    expect(h.standin.callsTo("conversations.history").length).toBeGreaterThanOrEqual(1);
    expect(h.standin.messages(TEST_ALERT_CHANNEL)).toHaveLength(1);
  });

  it("when many leads cross at once, then every alert is posted exactly once", async () => {
    for (let i = 0; i < 6; i++) await ingestHotLead(h);
    const ids = await eventually(() => {
      const posted = postedAlertIds(h.standin);
      return posted.length >= 6 ? posted : undefined;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(6);
  });
});

// Several instances share one Postgres; the embedded database is one process by design (a lock
// file guards it), so on PGlite the suite above is the single-instance path.
describe.skipIf(!TEST_DATABASE_URL)(
  "two app instances on one Postgres (skipped: set TEST_DATABASE_URL to a Postgres server)",
  () => {
    let tdb: TestDatabase;
    let second: Database;
    let standin: SlackStandin;
    let a: SlackHarness;
    let b: SlackHarness;

    beforeAll(async () => {
      tdb = await withDatabase({ name: "postgres", url: TEST_DATABASE_URL as string });
      second = await openDatabase({ url: tdb.url, maxConnections: 5 });
      standin = await SlackStandin.start();
      a = await startSlackHarness({ database: tdb.database, standin, alertPollMs: 50 });
      b = await startSlackHarness({ database: second, standin, alertPollMs: 50 });
    });

    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await standin?.close();
      await second?.close();
      await tdb?.cleanup();
    });

    it("when both ingest and dispatch at once, then no alert is posted twice", async () => {
      await Promise.all([
        (async () => {
          for (let i = 0; i < 8; i++) await ingestHotLead(a);
        })(),
        (async () => {
          for (let i = 0; i < 8; i++) await ingestHotLead(b);
        })(),
      ]);
      const ids = await eventually(() => {
        const posted = postedAlertIds(standin);
        return posted.length >= 16 ? posted : undefined;
      }, 30_000);
      expect(new Set(ids).size).toBe(16);
      expect(ids).toHaveLength(16);
      // Both instances had the chance: each dispatcher was woken by its own commits.
      expect(standin.callsTo("chat.postMessage")).toHaveLength(16);
    });
  },
);

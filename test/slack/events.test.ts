import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { execRows } from "../../src/db/client.js";
import { ensureModel } from "../../src/services/models.js";
import { createProposal } from "../../src/services/proposals.js";
import { HOME_REFRESH } from "../../src/slack/ids.js";
import { signSlackRequest } from "../../src/slack/local/driver.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_REP,
  textOf,
  waitForCall,
} from "../support/slack.js";

describe.each(testDatabases())(
  "Slack requests, events and App Home over HTTP on $name",
  (config) => {
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

    const form = () =>
      new URLSearchParams({
        command: "/lead",
        text: "help",
        user_id: TEST_REP,
        team_id: "T0LOCAL01",
      }).toString();

    it("when the signature is wrong, then the app answers 401 and runs nothing", async () => {
      const ts = Math.floor(Date.now() / 1000);
      const body = form();
      const res = await h.driver.raw(body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(ts),
        "x-slack-signature": signSlackRequest("not-the-secret", ts, body),
      });
      expect(res.status).toBe(401);
      const unsigned = await h.driver.raw(body, {
        "content-type": "application/x-www-form-urlencoded",
      });
      expect(unsigned.status).toBe(401);
    });

    it("when the signature is older than five minutes, then the app answers 401", async () => {
      const ts = Math.floor(Date.now() / 1000) - 6 * 60;
      const body = form();
      const res = await h.driver.raw(body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(ts),
        "x-slack-signature": signSlackRequest(h.signingSecret, ts, body),
      });
      expect(res.status).toBe(401);
    });

    it("when a correctly signed request arrives, then it is answered (the control for the two above)", async () => {
      const ts = Math.floor(Date.now() / 1000);
      const body = form();
      const res = await h.driver.raw(body, {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": String(ts),
        "x-slack-signature": signSlackRequest(h.signingSecret, ts, body),
      });
      expect(res.status).toBe(200);
      expect(textOf(res.json)).toContain("/lead top");
    });

    it("when Slack retries an event, then it is handled once", async () => {
      const event = { type: "app_home_opened", user: TEST_REP, tab: "home", channel: "D0HOME01" };
      const first = await h.driver.event(event, { eventId: "Ev0RETRY0001" });
      expect(first.status).toBe(200);
      await waitForCall(
        h.standin,
        (c) => c.method === "views.publish" && c.params.user_id === TEST_REP,
      );
      const retry = await h.driver.event(event, {
        eventId: "Ev0RETRY0001",
        retryNum: 1,
        retryReason: "http_timeout",
      });
      expect(retry.status).toBe(200);
      // A later, different event is handled: by then the retry has long been decided.
      await h.driver.event({ ...event, user: TEST_ADMIN }, { eventId: "Ev0RETRY0002" });
      await waitForCall(
        h.standin,
        (c) => c.method === "views.publish" && c.params.user_id === TEST_ADMIN,
      );
      expect(
        h.standin.callsTo("views.publish").filter((c) => c.params.user_id === TEST_REP),
      ).toHaveLength(1);
      const receipts = await execRows<{ n: number }>(
        tdb.database.db,
        sql`select count(*)::int as n from slack_event_receipts where event_id = 'Ev0RETRY0001'`,
      );
      expect(receipts[0]?.n).toBe(1);
    });

    it("when a rep opens the home tab, then it shows their leads, what waits for feedback and the model", async () => {
      const s = h.app.services;
      await s.upsertLeads([
        {
          email: "mine@acme.com",
          firstName: "Mine",
          lastName: "Lead",
          title: "VP Sales",
          company: "Acme",
          industry: "Software",
          employees: 900,
          country: "US",
          owner: TEST_REP,
        },
      ]);
      const now = new Date(s.clock()).toISOString();
      await s.recordEvents(
        ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
          id: `home-${i}`,
          email: "mine@acme.com",
          type,
          occurredAt: now,
        })),
      );
      await s.scoring.flush();
      // The alert reaches the channel (and the owner's DM) before it waits for feedback.
      await waitForCall(h.standin, (c) => c.method === "chat.postMessage");
      await eventually(async () => {
        const [r] = await execRows<{ n: number }>(
          h.app.database.db,
          sql`select count(*)::int as n from alert_outbox where status = 'sent'`,
        );
        return r?.n === 1 ? true : undefined;
      });
      await h.driver.event({
        type: "app_home_opened",
        user: TEST_REP,
        tab: "home",
        channel: "D0HOME01",
      });
      const publish = await waitForCall(
        h.standin,
        (c) => c.method === "views.publish" && c.params.user_id === TEST_REP,
      );
      const view = publish.params.view as { type: string; blocks: unknown[] };
      expect(view.type).toBe("home");
      expect(view.blocks.length).toBeLessThanOrEqual(100);
      const text = textOf(view);
      expect(text).toContain("My top leads");
      expect(text).toContain("*Mine Lead* · Acme");
      expect(text).toContain("Waiting for your feedback");
      expect(text).toMatch(/`\/lead won id:\d+`/);
      expect(text).toContain("scoring model *v1*");
      expect(text).not.toContain("waiting for approval");
    });

    it("when an admin opens the home tab, then pending proposals are listed with their diff; Refresh republishes", async () => {
      await createProposal(h.app.database.db, {
        change: { kind: "thresholds", thresholds: { mql: 55 } },
        by: TEST_REP,
        now: Date.now(),
      });
      await h.driver.event({
        type: "app_home_opened",
        user: TEST_ADMIN,
        tab: "home",
        channel: "D0HOME02",
      });
      const publish = await waitForCall(
        h.standin,
        (c) => c.method === "views.publish" && c.params.user_id === TEST_ADMIN,
      );
      const text = textOf(publish.params.view);
      expect(text).toContain("Model changes waiting for approval");
      expect(text).toMatch(/#1\* thresholds by <@U0REP00001>/);
      expect(text).toContain("50");
      expect(text).toContain("55");

      h.standin.reset();
      await h.driver.blockAction(TEST_ADMIN, {
        actionId: HOME_REFRESH,
        view: { id: "V0HOME", type: "home" },
      });
      await waitForCall(
        h.standin,
        (c) => c.method === "views.publish" && c.params.user_id === TEST_ADMIN,
      );
    });
  },
);

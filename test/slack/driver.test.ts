import type { AddressInfo } from "node:net";
import { App, HTTPReceiver, LogLevel } from "@slack/bolt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALERT_WON, LOST_REASON_BLOCK, LOST_REASON_MODAL } from "../../src/slack/ids.js";
import {
  createSlackDriver,
  type SlackDriver,
  signSlackRequest,
} from "../../src/slack/local/driver.js";
import { SlackStandin } from "../../src/slack/local/standin/index.js";

const SECRET = "local-signing-secret";
const TOKEN = "xoxb-driver-test";

/** Bolt's own HTTP receiver checks the signatures: if it accepts them, Slack's would match. */
describe("signed request driver against a Bolt app", () => {
  let standin: SlackStandin;
  let app: App;
  let driver: SlackDriver;
  const seenEvents: string[] = [];

  beforeAll(async () => {
    standin = await SlackStandin.start({ token: TOKEN });
    const receiver = new HTTPReceiver({ signingSecret: SECRET });
    app = new App({
      token: TOKEN,
      receiver,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: standin.url },
    });
    app.command("/lead", async ({ ack, command, respond }) => {
      await ack();
      await respond({ response_type: "ephemeral", text: `you asked: ${command.text}` });
    });
    app.action(ALERT_WON, async ({ ack, respond, body }) => {
      await ack();
      const user = body.user.id;
      await respond({ replace_original: true, text: `won by ${user}` });
    });
    app.view(LOST_REASON_MODAL, async ({ ack, view }) => {
      const reason = view.state.values[LOST_REASON_BLOCK]?.reason?.value ?? "";
      if (reason.length < 3) {
        await ack({ response_action: "errors", errors: { [LOST_REASON_BLOCK]: "Say a bit more" } });
        return;
      }
      await ack();
    });
    app.event("app_home_opened", async ({ event, client }) => {
      seenEvents.push(event.user);
      await client.views.publish({
        user_id: event.user,
        view: { type: "home", blocks: [{ type: "section", text: { type: "mrkdwn", text: "hi" } }] },
      });
    });
    const server = (await app.start(0)) as unknown as { address(): AddressInfo };
    driver = createSlackDriver({
      url: `http://127.0.0.1:${server.address().port}/slack/events`,
      signingSecret: SECRET,
      standin,
    });
  });

  afterAll(async () => {
    await app?.stop();
    await standin?.close();
  });

  it("when a command is sent, then Bolt accepts it and the answer lands on the response_url", async () => {
    const res = await driver.command("U0REP0001", "top 10", { channelId: "C0SALES01" });
    expect(res.status).toBe(200);
    expect(res.responseId).toBeDefined();
    const answer = await standin.waitForResponse(res.responseId ?? "");
    expect(answer.payload).toMatchObject({
      response_type: "ephemeral",
      text: "you asked: top 10",
    });
  });

  it("when a button is pressed on a message, then the action reaches the app with its response_url", async () => {
    const res = await driver.blockAction("U0REP0002", {
      actionId: ALERT_WON,
      value: '{"alertId":1,"leadId":2}',
      message: { ts: "1700000000.000100", text: "New SQL" },
      channel: { id: "C0ALERTS01" },
    });
    expect(res.status).toBe(200);
    const answer = await standin.waitForResponse(res.responseId ?? "");
    expect(answer.payload).toMatchObject({ replace_original: true, text: "won by U0REP0002" });
  });

  it("when a modal is submitted, then its ack (with errors) comes back in the body", async () => {
    const bad = await driver.viewSubmission(
      "U0REP0001",
      { callback_id: LOST_REASON_MODAL },
      {
        [LOST_REASON_BLOCK]: { reason: { type: "plain_text_input", value: "no" } },
      },
    );
    expect(bad.status).toBe(200);
    expect(bad.json).toEqual({
      response_action: "errors",
      errors: { [LOST_REASON_BLOCK]: "Say a bit more" },
    });
    const good = await driver.viewSubmission(
      "U0REP0001",
      { callback_id: LOST_REASON_MODAL },
      {
        [LOST_REASON_BLOCK]: { reason: { type: "plain_text_input", value: "budget" } },
      },
    );
    expect(good.status).toBe(200);
    expect(good.body).toBe("");
  });

  it("when an event is delivered, then the listener runs and calls the Web API stand-in", async () => {
    const published = standin.waitForCall("views.publish");
    const res = await driver.event(
      { type: "app_home_opened", user: "U0REP0003", channel: "D0REP0003", tab: "home" },
      { retryNum: 1, eventId: "Ev0001" },
    );
    expect(res.status).toBe(200);
    await published;
    expect(seenEvents).toContain("U0REP0003");
    expect(standin.callsTo("views.publish")[0]?.params).toMatchObject({ user_id: "U0REP0003" });
  });

  it("when the signature is wrong or stale, then Bolt answers 401", async () => {
    const body = "command=%2Flead&text=help";
    const now = Math.floor(Date.now() / 1000);
    const wrong = await driver.raw(body, {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(now),
      "x-slack-signature": signSlackRequest("not-the-secret", now, body),
    });
    expect(wrong.status).toBe(401);
    const stale = now - 10 * 60;
    const old = await driver.raw(body, {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-request-timestamp": String(stale),
      "x-slack-signature": signSlackRequest(SECRET, stale, body),
    });
    expect(old.status).toBe(401);
    const staleDriver = createSlackDriver({
      url: (driver as unknown as { opts: { url: string } }).opts.url,
      signingSecret: SECRET,
      clock: () => stale,
    });
    expect((await staleDriver.command("U0REP0001", "help")).status).toBe(401);
  });
});

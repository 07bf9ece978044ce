import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createSlackClient } from "../../src/slack/client.js";
import { SlackStandin } from "../../src/slack/local/standin/index.js";

const TOKEN = "xoxb-standin-test";

async function post(
  standin: SlackStandin,
  method: string,
  body: string,
  headers: Record<string, string>,
) {
  const res = await fetch(`${standin.url}${method}`, { method: "POST", headers, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe("Slack Web API stand-in", () => {
  let standin: SlackStandin;

  beforeAll(async () => {
    standin = await SlackStandin.start({ token: TOKEN });
  });
  afterAll(async () => {
    await standin?.close();
  });
  beforeEach(() => standin.reset());

  it("when called with a JSON body or a form body, then both are understood", async () => {
    const json = await post(
      standin,
      "chat.postMessage",
      JSON.stringify({ channel: "C1", text: "a" }),
      {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json; charset=utf-8",
      },
    );
    const form = await post(
      standin,
      "chat.postMessage",
      new URLSearchParams({
        token: TOKEN,
        channel: "C1",
        text: "b",
        blocks: JSON.stringify([{ type: "divider" }]),
      }).toString(),
      { "content-type": "application/x-www-form-urlencoded" },
    );
    expect(json.json).toMatchObject({ ok: true, channel: "C1" });
    expect(form.json).toMatchObject({ ok: true, message: { blocks: [{ type: "divider" }] } });
    const [first, second] = standin.messages("C1");
    expect(Number(second?.ts)).toBeGreaterThan(Number(first?.ts));
    expect(standin.callsTo("chat.postMessage").map((c) => c.token)).toEqual([TOKEN, TOKEN]);
  });

  it("when the token is wrong or missing, then Slack's auth errors come back", async () => {
    const headers = { "content-type": "application/json" };
    expect((await post(standin, "auth.test", "{}", headers)).json).toEqual({
      ok: false,
      error: "not_authed",
    });
    const wrong = await post(standin, "auth.test", "{}", { ...headers, authorization: "Bearer x" });
    expect(wrong.json).toEqual({ ok: false, error: "invalid_auth" });
  });

  it("when messages are posted, updated and listed, then history, metadata and permalinks match", async () => {
    const slack = createSlackClient(TOKEN, standin.url);
    const posted = await slack.chat.postMessage({
      channel: "C2",
      text: "hello",
      metadata: { event_type: "leadbot_alert", event_payload: { alert_id: 9 } },
    });
    await slack.chat.update({ channel: "C2", ts: posted.ts ?? "", text: "edited" });
    const plain = await slack.conversations.history({ channel: "C2" });
    expect(plain.messages?.[0]).toMatchObject({ text: "edited", ts: posted.ts });
    expect(plain.messages?.[0]?.metadata).toBeUndefined();
    const withMeta = await slack.conversations.history({
      channel: "C2",
      include_all_metadata: true,
    });
    expect(withMeta.messages?.[0]?.metadata).toEqual({
      event_type: "leadbot_alert",
      event_payload: { alert_id: 9 },
    });
    const link = await slack.chat.getPermalink({ channel: "C2", message_ts: posted.ts ?? "" });
    expect(link.permalink).toContain("/archives/C2/p");
    await expect(
      slack.chat.update({ channel: "C2", ts: "1.000001", text: "x" }),
    ).rejects.toMatchObject({
      data: { error: "message_not_found" },
    });
  });

  it("when views are opened, updated and published, then they are stored with ids and hashes", async () => {
    const slack = createSlackClient(TOKEN, standin.url);
    await expect(
      slack.views.open({
        trigger_id: "",
        view: { type: "modal", title: { type: "plain_text", text: "t" }, blocks: [] },
      }),
    ).rejects.toMatchObject({ data: { error: "invalid_trigger_id" } });
    const opened = await slack.views.open({
      trigger_id: "123.abc",
      view: {
        type: "modal",
        callback_id: "cb",
        title: { type: "plain_text", text: "t" },
        blocks: [],
      },
    });
    const id = opened.view?.id ?? "";
    await expect(
      slack.views.update({
        view_id: id,
        hash: "stale",
        view: { type: "modal", title: { type: "plain_text", text: "u" }, blocks: [] },
      }),
    ).rejects.toMatchObject({ data: { error: "hash_conflict" } });
    const updated = await slack.views.update({
      view_id: id,
      hash: opened.view?.hash ?? "",
      view: { type: "modal", title: { type: "plain_text", text: "u" }, blocks: [] },
    });
    expect(updated.view?.id).toBe(id);
    await slack.views.publish({ user_id: "U1", view: { type: "home", blocks: [] } });
    expect([...standin.views.values()].map((v) => v.type).sort()).toEqual(["home", "modal"]);
  });

  it("when told to fail, then the next call or every call for a period fails that way", async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    standin.failNext("auth.test", { status: 429, retryAfter: 3 });
    const limited = await fetch(`${standin.url}auth.test`, { method: "POST", headers, body: "{}" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("3");
    expect((await post(standin, "auth.test", "{}", headers)).json).toMatchObject({ ok: true });

    standin.failNext("users.info", { error: "user_not_found" });
    expect((await post(standin, "users.info", '{"user":"U1"}', headers)).json).toEqual({
      ok: false,
      error: "user_not_found",
    });

    standin.failFor("*", 60_000, { status: 500 });
    expect((await post(standin, "auth.test", "{}", headers)).status).toBe(500);
    expect((await post(standin, "users.info", '{"user":"U1"}', headers)).status).toBe(500);
    standin.recover();
    expect((await post(standin, "users.info", '{"user":"U1"}', headers)).json).toMatchObject({
      ok: true,
      user: { id: "U1" },
    });
  });

  it("when something is posted to a response_url, then it is recorded under its id", async () => {
    await fetch(standin.responseUrl("cmd-1"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ replace_original: true, text: "done" }),
    });
    expect(standin.responses("cmd-1").map((r) => r.payload)).toEqual([
      { replace_original: true, text: "done" },
    ]);
  });

  it("when an app-level token opens a Socket Mode link, then hello comes, envelopes go out and acks come back", async () => {
    const open = (token: string) =>
      post(standin, "apps.connections.open", "{}", {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      });
    expect((await open(TOKEN)).json).toEqual({ ok: false, error: "not_allowed_token_type" });
    // ...and an app-level token calls nothing else.
    expect(
      (await post(standin, "auth.test", "{}", { authorization: "Bearer xapp-1-x" })).json,
    ).toEqual({
      ok: false,
      error: "not_allowed_token_type",
    });
    const opened = await open("xapp-1-A0LEADBOT-1-abc");
    expect(opened.json).toMatchObject({ ok: true });
    const url = String(opened.json.url);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);

    const ws = new WebSocket(url);
    const received: Record<string, unknown>[] = [];
    const hello = new Promise<Record<string, unknown>>((resolve) => {
      ws.on("message", (data) => {
        const message = JSON.parse(String(data)) as Record<string, unknown>;
        received.push(message);
        if (message.type === "hello") resolve(message);
        // The app's side: ack every envelope, answering commands in the ack.
        if (typeof message.envelope_id === "string") {
          const payload = message.type === "slash_commands" ? { text: "pong" } : {};
          ws.send(JSON.stringify({ envelope_id: message.envelope_id, payload }));
        }
      });
    });
    expect(await hello).toMatchObject({ type: "hello", num_connections: 1 });
    await standin.waitForSocket();
    expect(standin.socketConnections).toBe(1);

    const answer = await standin.deliver("slash_commands", { command: "/lead", text: "ping" });
    expect(answer).toEqual({ text: "pong" });
    const eventAck = await standin.deliver(
      "events_api",
      { type: "event_callback", event: { type: "app_home_opened" } },
      { retryAttempt: 1, retryReason: "timeout" },
    );
    expect(eventAck).toEqual({});
    const [command, event] = received.filter((m) => m.envelope_id);
    expect(command).toMatchObject({
      type: "slash_commands",
      accepts_response_payload: true,
      payload: { command: "/lead", text: "ping" },
    });
    expect(event).toMatchObject({
      type: "events_api",
      accepts_response_payload: false,
      retry_attempt: 1,
      retry_reason: "timeout",
    });
    expect(standin.socketAcks.map((a) => a.envelope_id)).toEqual([
      command?.envelope_id,
      event?.envelope_id,
    ]);

    // A ticket is good for one connection; a made-up one gets nowhere.
    for (const bad of [url, url.replace(/ticket=[0-9a-f]+/, "ticket=nope")]) {
      const refused = new WebSocket(bad);
      const status = await new Promise<number | undefined>((resolve) => {
        refused.on("unexpected-response", (_req, res) => resolve(res.statusCode));
        refused.on("open", () => resolve(101));
      });
      expect(status).toBe(401);
    }

    const closed = new Promise<void>((resolve) => ws.on("close", () => resolve()));
    ws.close(1000);
    await closed;
    await standin.waitForSocketsClosed();
    expect(standin.socketConnections).toBe(0);
    await expect(standin.deliver("interactive", {})).rejects.toThrow(
      "no Socket Mode connection is open",
    );
  });
});

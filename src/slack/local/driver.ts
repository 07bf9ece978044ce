import { createHmac, randomBytes } from "node:crypto";
import type { SlackStandin } from "./standin/index.js";

/**
 * Sends Slack's requests to the app's `POST /slack/events` over real HTTP, signed as Slack signs
 * them, so the local console and the tests reach the app through its real entry point.
 */

export interface DriverOptions {
  /** The app's events URL, e.g. http://127.0.0.1:3000/slack/events. */
  url: string;
  signingSecret: string;
  /** Where `response_url`s point; without it they point at a URL nothing records. */
  standin?: SlackStandin;
  teamId?: string;
  teamDomain?: string;
  apiAppId?: string;
  /** Slash command name (default /lead). */
  command?: string;
  /** Epoch seconds used for X-Slack-Request-Timestamp (tests move it to make stale requests). */
  clock?: () => number;
}

export interface DriverResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
  /** The `response_url` id this request carried (read it with `standin.responses(id)`). */
  responseId?: string | undefined;
  /** The `trigger_id` this request carried. */
  triggerId?: string | undefined;
}

export interface ChannelRef {
  id: string;
  name?: string;
}

export interface BlockActionOptions {
  actionId: string;
  value?: string;
  blockId?: string;
  /** The message the button is on (message container). */
  message?: { ts: string; text?: string; blocks?: unknown[]; metadata?: unknown };
  channel?: ChannelRef;
  /** The view the button is in (modal or home container). */
  view?: {
    id: string;
    callback_id?: string;
    private_metadata?: string;
    type?: string;
    /** What the fields hold now, as Slack sends it with every action in a modal. */
    state?: { values: ViewStateValues };
  };
  /** Type of the element that was used (default button). */
  elementType?: string;
  selectedOption?: { text: { type: "plain_text"; text: string }; value: string };
}

/** Input values as Slack puts them in `view.state.values`: block id → action id → value. */
export type ViewStateValues = Record<string, Record<string, Record<string, unknown>>>;

export interface SubmittedView {
  id?: string;
  callback_id: string;
  private_metadata?: string;
  title?: unknown;
  blocks?: unknown[];
}

export interface EventOptions {
  retryNum?: number;
  retryReason?: string;
  eventId?: string;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret. */
export function signSlackRequest(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

function randomId(prefix: string, length = 10): string {
  return `${prefix}${randomBytes(length).toString("hex").toUpperCase().slice(0, length)}`;
}

export class SlackDriver {
  private readonly opts: DriverOptions;
  private readonly teamId: string;
  private readonly teamDomain: string;
  private readonly apiAppId: string;
  private seq = 0;

  constructor(opts: DriverOptions) {
    this.opts = opts;
    this.teamId = opts.teamId ?? opts.standin?.teamId ?? "T0LOCAL01";
    this.teamDomain = opts.teamDomain ?? "leadbot-local";
    this.apiAppId = opts.apiAppId ?? "A0LEADBOT";
  }

  private now(): number {
    return this.opts.clock ? this.opts.clock() : Math.floor(Date.now() / 1000);
  }

  private nextResponse(kind: string): { id: string; url: string } {
    this.seq += 1;
    const id = `${kind}-${this.seq}-${randomBytes(3).toString("hex")}`;
    const url = this.opts.standin
      ? this.opts.standin.responseUrl(id)
      : `http://127.0.0.1:9/response/${id}`;
    return { id, url };
  }

  private triggerId(): string {
    return `${Date.now()}.${randomBytes(4).toString("hex")}`;
  }

  private user(userId: string) {
    return {
      id: userId,
      username: userId.toLowerCase(),
      name: userId.toLowerCase(),
      team_id: this.teamId,
    };
  }

  /** Posts a body signed with the current time, exactly as Slack does. */
  async signed(body: string, contentType: string, extra: Record<string, string> = {}) {
    const ts = this.now();
    return this.raw(body, {
      // A fresh connection per request, as Slack's deliveries arrive: a pooled socket the app
      // closed while idle (its keep-alive timeout) would otherwise fail the next request.
      connection: "close",
      "content-type": contentType,
      "x-slack-request-timestamp": String(ts),
      "x-slack-signature": signSlackRequest(this.opts.signingSecret, ts, body),
      ...extra,
    });
  }

  /** Posts `body` with exactly these headers: for bad, missing or stale signatures. */
  async raw(body: string, headers: Record<string, string>): Promise<DriverResponse> {
    const res = await fetch(this.opts.url, { method: "POST", headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, body: text, json };
  }

  /** `/lead <text>` typed by `userId` in a channel. */
  async command(
    userId: string,
    text: string,
    opts: { channelId?: string; channelName?: string } = {},
  ): Promise<DriverResponse> {
    const response = this.nextResponse("command");
    const triggerId = this.triggerId();
    const form = new URLSearchParams({
      token: "local-verification-token",
      team_id: this.teamId,
      team_domain: this.teamDomain,
      channel_id: opts.channelId ?? "C0LOCAL01",
      channel_name: opts.channelName ?? "general",
      user_id: userId,
      user_name: userId.toLowerCase(),
      command: this.opts.command ?? "/lead",
      text,
      api_app_id: this.apiAppId,
      is_enterprise_install: "false",
      response_url: response.url,
      trigger_id: triggerId,
    });
    const res = await this.signed(form.toString(), "application/x-www-form-urlencoded");
    return { ...res, responseId: response.id, triggerId };
  }

  private async interaction(payload: Record<string, unknown>): Promise<DriverResponse> {
    const form = new URLSearchParams({ payload: JSON.stringify(payload) });
    return this.signed(form.toString(), "application/x-www-form-urlencoded");
  }

  /** A button (or other block element) used by `userId` on a message or in a view. */
  async blockAction(userId: string, o: BlockActionOptions): Promise<DriverResponse> {
    const triggerId = this.triggerId();
    const actionTs = `${Date.now() / 1000}`;
    const action: Record<string, unknown> = {
      type: o.elementType ?? "button",
      action_id: o.actionId,
      block_id: o.blockId ?? randomId("b", 5),
      action_ts: actionTs,
    };
    if (o.value !== undefined) action.value = o.value;
    if (o.selectedOption) action.selected_option = o.selectedOption;
    const payload: Record<string, unknown> = {
      type: "block_actions",
      user: this.user(userId),
      api_app_id: this.apiAppId,
      token: "local-verification-token",
      trigger_id: triggerId,
      team: { id: this.teamId, domain: this.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      actions: [action],
    };
    let responseId: string | undefined;
    if (o.message) {
      const channel = o.channel ?? { id: "C0LOCAL01", name: "general" };
      const response = this.nextResponse("action");
      responseId = response.id;
      payload.container = {
        type: "message",
        message_ts: o.message.ts,
        channel_id: channel.id,
        is_ephemeral: false,
      };
      payload.channel = { id: channel.id, name: channel.name ?? channel.id };
      payload.message = { type: "message", user: "U0LEADBOT", text: "", ...o.message };
      payload.response_url = response.url;
    } else if (o.view) {
      payload.container = { type: "view", view_id: o.view.id };
      payload.view = {
        type: "modal",
        team_id: this.teamId,
        private_metadata: "",
        callback_id: "",
        state: { values: {} },
        hash: `${Date.now()}.x`,
        ...o.view,
      };
    }
    if (o.channel && !payload.channel) payload.channel = { id: o.channel.id, name: o.channel.name };
    const res = await this.interaction(payload);
    return { ...res, responseId, triggerId };
  }

  /** A modal submitted by `userId` with the given input values. */
  async viewSubmission(
    userId: string,
    view: SubmittedView,
    values: ViewStateValues,
  ): Promise<DriverResponse> {
    const triggerId = this.triggerId();
    const payload = {
      type: "view_submission",
      team: { id: this.teamId, domain: this.teamDomain },
      user: this.user(userId),
      api_app_id: this.apiAppId,
      token: "local-verification-token",
      trigger_id: triggerId,
      view: {
        id: view.id ?? randomId("V", 10),
        team_id: this.teamId,
        type: "modal",
        blocks: view.blocks ?? [],
        private_metadata: view.private_metadata ?? "",
        callback_id: view.callback_id,
        state: { values },
        hash: `${Date.now()}.x`,
        title: view.title ?? { type: "plain_text", text: "Leadbot" },
        app_id: this.apiAppId,
        bot_id: "B0LEADBOT",
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const res = await this.interaction(payload);
    return { ...res, triggerId };
  }

  /** An Events API delivery of `event`; a retry carries the Slack retry headers. */
  async event(event: Record<string, unknown>, o: EventOptions = {}): Promise<DriverResponse> {
    const body = JSON.stringify({
      token: "local-verification-token",
      team_id: this.teamId,
      api_app_id: this.apiAppId,
      event: { event_ts: `${Date.now() / 1000}`, ...event },
      type: "event_callback",
      event_id: o.eventId ?? randomId("Ev", 10),
      event_time: this.now(),
      authorizations: [
        {
          enterprise_id: null,
          team_id: this.teamId,
          user_id: "U0LEADBOT",
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
    });
    const extra: Record<string, string> = {};
    if (o.retryNum !== undefined) {
      extra["x-slack-retry-num"] = String(o.retryNum);
      extra["x-slack-retry-reason"] = o.retryReason ?? "http_timeout";
    }
    return this.signed(body, "application/json", extra);
  }
}

export function createSlackDriver(opts: DriverOptions): SlackDriver {
  return new SlackDriver(opts);
}

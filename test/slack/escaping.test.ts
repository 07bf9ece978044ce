import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALERT_ACTIONS_BLOCK,
  ALERT_CLAIM,
  ALERT_WON,
  TUNING_MQL_BLOCK,
  TUNING_NOTE_BLOCK,
  TUNING_PREVIEW_BLOCK,
} from "../../src/slack/ids.js";
import type { StoredMessage } from "../../src/slack/local/standin/index.js";
import { type TestDatabase, testDatabases, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_MANAGER,
  TEST_REP,
  TEST_REP2,
  textOf,
  waitForCall,
} from "../support/slack.js";

/** Lead text as a hostile web form would send it: mentions, a forged link, markup, long Unicode. */
const HOSTILE = {
  firstName: "<!channel>",
  lastName: "<!here> <@U1>",
  title: "<https://evil.example|Reset password>",
  company: `& *bold* ${"漢字😀\u0301".repeat(120)}`,
};
const OUR_USERS = new Set([TEST_ADMIN, TEST_MANAGER, TEST_REP, TEST_REP2, "U0LEADBOT"]);

interface Block {
  type: string;
  block_id?: string;
  elements?: { action_id?: string; value?: string }[];
  element?: { action_id?: string; type?: string; initial_value?: string };
}

/**
 * Every string Slack would parse as mrkdwn in a payload: top-level `text`, mrkdwn text objects,
 * fields and context elements. plain_text objects are left out: Slack never parses them, so a
 * `<!channel>` there is shown as typed.
 */
function parsedTexts(payload: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (o.type === "plain_text") return;
      for (const [k, x] of Object.entries(o)) {
        if (k === "text" && typeof x === "string") out.push(x);
        else walk(x);
      }
    }
  };
  walk(payload);
  return out;
}

/** The active Slack syntax a text holds that did not come from Leadbot itself. */
function activeTokens(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/<!([^>|^]*)/g)) {
    // `<!date^…>` is Leadbot's own date formatting.
    if (m[1] !== "date") found.push(m[0]);
  }
  for (const m of text.matchAll(/<@([A-Z0-9]*)/g)) {
    if (!OUR_USERS.has(m[1] ?? "")) found.push(m[0]);
  }
  for (const m of text.matchAll(/<(https?:[^>]*)/g)) found.push(m[0]);
  return found;
}

describe.each(testDatabases())("lead text reaching Slack over signed HTTP on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;
  let leadId: number;
  let alert: StoredMessage;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({ database: tdb.database });
    await h.app.services.team.grantRole({ by: TEST_ADMIN, userId: TEST_MANAGER, role: "manager" });
    const s = h.app.services;
    const up = await s.upsertLeads([
      {
        email: "hostile@evil.example",
        ...HOSTILE,
        industry: "Software",
        employees: 900,
        country: "US",
        owner: TEST_REP,
      },
    ]);
    expect(up.errors).toEqual([]);
    leadId = up.leads[0]?.id as number;
    const now = new Date(s.clock()).toISOString();
    const r = await s.recordEvents(
      ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
        id: `hostile-${i}`,
        email: "hostile@evil.example",
        type,
        occurredAt: now,
      })),
    );
    expect(r.errors).toEqual([]);
    await s.scoring.flush();
    expect((await s.leads.get(`id:${leadId}`)).stage).not.toBe("lead");
    alert = structuredClone(
      await eventually(() =>
        h.standin
          .messages(TEST_ALERT_CHANNEL)
          .find((m) => Number(m.metadata?.event_payload.lead_id) === leadId),
      ),
    );
    // The owner's DM goes out after the channel post.
    await eventually(() => h.standin.messages(h.standin.dmChannel(TEST_REP))[0]);
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  /** Asserts that the payload shows the lead's text (escaped) and holds nothing active. */
  function expectInert(payload: unknown, where: string): void {
    const texts = parsedTexts(payload);
    expect(texts.length, where).toBeGreaterThan(0);
    for (const t of texts) expect(activeTokens(t), `${where}: ${t.slice(0, 200)}`).toEqual([]);
  }

  function expectShowsLead(payload: unknown, where: string): void {
    expect(parsedTexts(payload).join("\n"), where).toContain("&lt;!channel&gt;");
  }

  function alertButton(actionId: string): string {
    const actions = (alert.blocks as Block[]).find((b) => b.block_id === ALERT_ACTIONS_BLOCK);
    const value = actions?.elements?.find((e) => e.action_id === actionId)?.value;
    if (!value) throw new Error(`the alert has no ${actionId} button`);
    return value;
  }

  it("when a hostile lead crosses a threshold, then the alert and the owner's DM show its text inert", () => {
    expectInert({ text: alert.text, blocks: alert.blocks }, "alert");
    expectShowsLead({ text: alert.text, blocks: alert.blocks }, "alert");
    expect(alert.text).toContain("&lt;!channel&gt; &lt;!here&gt; &lt;@U1&gt;");
    const dm = h.standin.messages(h.standin.dmChannel(TEST_REP))[0];
    expectInert({ text: dm?.text, blocks: dm?.blocks }, "owner DM");
    expectShowsLead({ text: dm?.text, blocks: dm?.blocks }, "owner DM");
  });

  it("when the alert's buttons are pressed, then every rewritten alert stays inert", async () => {
    for (const actionId of [ALERT_CLAIM, ALERT_WON]) {
      const from = h.standin.calls.length;
      const res = await h.driver.blockAction(TEST_REP, {
        actionId,
        blockId: ALERT_ACTIONS_BLOCK,
        value: alertButton(actionId),
        message: { ts: alert.ts, text: alert.text, blocks: alert.blocks ?? [] },
        channel: { id: TEST_ALERT_CHANNEL },
      });
      expect(res.status).toBe(200);
      const update = await eventually(() =>
        h.standin.calls.slice(from).find((c) => c.method === "chat.update" && c.response),
      );
      expectInert(update.params, `alert after ${actionId}`);
      expectShowsLead(update.params, `alert after ${actionId}`);
    }
  });

  it("when the lead is listed, explained and shown, then each answer is inert", async () => {
    for (const text of ["top 5", "why hostile@evil.example", "show hostile@evil.example"]) {
      const res = await h.driver.command(TEST_REP, text);
      expect(res.status).toBe(200);
      const answer = await answerTo(h.standin, res.responseId);
      expectInert(answer.payload, `/lead ${text}`);
      expectShowsLead(answer.payload, `/lead ${text}`);
    }
    const find = await h.driver.command(TEST_REP, "find <!channel> <https://evil.example|x>");
    const none = await answerTo(h.standin, find.responseId);
    expectInert(none.payload, "/lead find with hostile text");
  });

  it("when the owner opens App Home, then the published view is inert", async () => {
    const from = h.standin.calls.length;
    await h.driver.event({ type: "app_home_opened", user: TEST_REP, tab: "home", channel: "D1" });
    const publish = await waitForCall(
      h.standin,
      (c) => h.standin.calls.indexOf(c) >= from && c.method === "views.publish",
    );
    expectInert(publish.params.view, "App Home");
    expectShowsLead(publish.params.view, "App Home");
  });

  it("when a proposal carries a hostile note, then every proposal message is inert", async () => {
    const res = await h.driver.command(TEST_REP, "thresholds");
    const opened = await eventually(() =>
      h.standin
        .callsTo("views.open")
        .find((c) => c.params.trigger_id === res.triggerId && c.response),
    );
    const viewId = String((opened.response?.view as { id?: string } | undefined)?.id);
    await eventually(() => {
      const blocks = (h.standin.views.get(viewId)?.view.blocks ?? []) as {
        block_id?: string;
        text?: { text?: string };
      }[];
      const preview = blocks.find((b) => b.block_id === TUNING_PREVIEW_BLOCK);
      return preview?.text?.text?.includes("Nothing changed yet") ? true : undefined;
    });
    const stored = h.standin.views.get(viewId);
    const values: Record<string, Record<string, Record<string, unknown>>> = {};
    for (const b of (stored?.view.blocks ?? []) as Block[]) {
      if (b.type !== "input" || !b.block_id || !b.element?.action_id) continue;
      const edits: Record<string, string> = {
        [TUNING_MQL_BLOCK]: "33",
        [TUNING_NOTE_BLOCK]: `${HOSTILE.firstName} ${HOSTILE.lastName} ${HOSTILE.title}`,
      };
      values[b.block_id] = {
        [b.element.action_id]: {
          type: b.element.type,
          value: edits[b.block_id] ?? b.element.initial_value ?? null,
        },
      };
    }
    const from = h.standin.calls.length;
    const submitted = await h.driver.viewSubmission(
      TEST_REP,
      {
        id: viewId,
        callback_id: String(stored?.view.callback_id),
        private_metadata: String(stored?.view.private_metadata),
      },
      values,
    );
    expect(submitted.status).toBe(200);
    // The manager's copy (with buttons) and the proposer's copy both go out.
    const posts = await eventually(() => {
      const p = h.standin.calls
        .slice(from)
        .filter((c) => c.method === "chat.postMessage" && c.response);
      return p.length >= 2 ? p : undefined;
    });
    for (const p of posts) expectInert(p.params, "proposal message");
    expect(posts.some((p) => textOf(p.params.blocks).includes("&lt;!here&gt;"))).toBe(true);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { outcomes } from "../../src/db/schema.js";
import { ensureModel } from "../../src/services/models.js";
import { LEAD_MENU, LIST_PAGE } from "../../src/slack/blocks/ids.js";
import { LIST_PAGE_SIZE } from "../../src/slack/blocks/leads.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_REP,
  TEST_REP2,
  textOf,
  waitForCall,
} from "../support/slack.js";

interface Block {
  type: string;
  block_id?: string;
  accessory?: { action_id?: string; options?: { value: string }[] };
  elements?: { action_id?: string; value?: string }[];
}

const DAY = 86_400_000;

describe.each(testDatabases())("/lead commands over HTTP on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  async function seed(): Promise<void> {
    const s = h.app.services;
    const leads = Array.from({ length: 30 }, (_, i) => ({
      email: `person${i}@company${i}.com`,
      firstName: `Person`,
      lastName: `${i}`,
      title: i % 3 === 0 ? "VP of Sales" : "Engineer",
      company: i === 7 ? "Globex Widgets" : `Company ${i}`,
      industry: "Software",
      employees: 800,
      country: "US",
      owner: i < 5 ? TEST_REP : undefined,
    }));
    const r = await s.upsertLeads(leads);
    expect(r.errors).toEqual([]);
    const now = s.clock();
    const events = leads.flatMap((l, i) =>
      Array.from({ length: i % 5 }, (_, k) => ({
        id: `seed-${i}-${k}`,
        email: l.email,
        type: k === 0 ? "demo_request" : "email_click",
        occurredAt: new Date(now - (k + 1) * DAY).toISOString(),
      })),
    );
    const e = await s.recordEvents(events);
    await s.scoring.flush();
    expect(e.errors).toEqual([]);
  }

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
    // truncateAll empties the model table too: put the default model back.
    await ensureModel(tdb.database.db);
    h.standin.reset();
    await seed();
  });

  async function ask(text: string, user = TEST_REP) {
    const res = await h.driver.command(user, text);
    expect(res.status).toBe(200);
    return res;
  }

  it("when /lead is typed alone, then help is the ack itself, listing every command", async () => {
    const res = await ask("");
    const text = textOf(res.json);
    for (const s of [
      "top",
      "show",
      "why",
      "find",
      "won",
      "lost",
      "assign",
      "thresholds",
      "weights",
      "stats",
      "role",
      "history",
      "reopen",
    ]) {
      expect(text).toContain(`/lead ${s}`);
    }
    expect((res.json as { response_type: string }).response_type).toBe("ephemeral");
  });

  it("when a subcommand is mistyped, then usage with an example and a did-you-mean come back", async () => {
    const res = await ask("tpo 5");
    const text = textOf(res.json);
    expect(text).toContain('"tpo" is not a /lead command');
    expect(text).toContain("Did you mean `/lead top`?");
    expect(text).toContain("Example: `/lead top 20 sql mine`");
  });

  it("when top 25 is asked, then the first page of 20 comes with a Next button that pages on", async () => {
    const res = await ask("top 25");
    const answer = await answerTo(h.standin, res.responseId);
    const blocks = answer.payload.blocks as Block[];
    expect(answer.payload.response_type).toBe("ephemeral");
    const rows = blocks.filter((b) => b.accessory?.action_id === LEAD_MENU);
    expect(rows).toHaveLength(LIST_PAGE_SIZE);
    expect(textOf(blocks)).toContain("Top 25 leads");
    const next = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === LIST_PAGE);
    expect(next?.value).toBeDefined();

    const page = await h.driver.blockAction(TEST_REP, {
      actionId: LIST_PAGE,
      value: next?.value as string,
      message: { ts: "1.1", blocks },
    });
    const second = await answerTo(h.standin, page.responseId);
    expect(second.payload.replace_original).toBe(true);
    const secondRows = (second.payload.blocks as Block[]).filter(
      (b) => b.accessory?.action_id === LEAD_MENU,
    );
    expect(secondRows).toHaveLength(5);
    expect(textOf(second.payload)).toContain("(21–25)");
  });

  it("when top mine is asked, then only the asker's leads are listed", async () => {
    const res = await ask("top 50 mine");
    const answer = await answerTo(h.standin, res.responseId);
    const rows = (answer.payload.blocks as Block[]).filter(
      (b) => b.accessory?.action_id === LEAD_MENU,
    );
    expect(rows).toHaveLength(5);
    const other = await ask(`top 50 <@${TEST_REP2}|sam>`);
    expect(textOf((await answerTo(h.standin, other.responseId)).payload)).toContain(
      "No leads owned by",
    );
  });

  it("when show and why are asked, then the lead and every point with its rule come back", async () => {
    const show = await answerTo(h.standin, (await ask("show person3@company3.com")).responseId);
    const showText = textOf(show.payload);
    expect(showText).toContain("Person 3");
    expect(showText).toContain("VP of Sales at Company 3");
    const why = await answerTo(h.standin, (await ask("why person3@company3.com")).responseId);
    const whyText = textOf(why.payload);
    expect(whyText).toMatch(/Why Person 3 scores \d/);
    expect(whyText).toContain("title_vp");
    expect(whyText).toContain("demo_request");
    expect(whyText).toContain("before decay");
  });

  it("when show names a lead by a bare key, id: or ext:, then a bare key is an externalId first and id: the internal id", async () => {
    // person10 carries the CRM's externalId "3"; internal id 3 is person2.
    const r = await h.app.services.upsertLeads([
      { email: "person10@company10.com", externalId: "3" },
    ]);
    expect(r.errors).toEqual([]);
    const shown = async (key: string) =>
      textOf((await answerTo(h.standin, (await ask(`show ${key}`)).responseId)).payload);
    expect(await shown("3")).toContain("Person 10");
    expect(await shown("ext:3")).toContain("Person 10");
    const byId = await shown("id:3");
    expect(byId).toContain("Person 2");
    expect(byId).not.toContain("Person 10");
    expect(await shown("id:x")).toContain("id: takes a positive whole number");
  });

  it("when the lead menu's Why is chosen, then the breakdown arrives as a new answer", async () => {
    const list = await answerTo(h.standin, (await ask("top 3")).responseId);
    const row = (list.payload.blocks as Block[]).find((b) => b.accessory?.action_id === LEAD_MENU);
    const why = row?.accessory?.options?.[0]?.value as string;
    const res = await h.driver.blockAction(TEST_REP, {
      actionId: LEAD_MENU,
      elementType: "overflow",
      selectedOption: { text: { type: "plain_text", text: "Why this score" }, value: why },
      message: { ts: "1.2", blocks: list.payload.blocks as unknown[] },
    });
    const answer = await answerTo(h.standin, res.responseId);
    expect(textOf(answer.payload)).toContain("Why Person");
  });

  it("when find is asked, then matching leads come back, and an unknown lead gets a plain error", async () => {
    const found = await answerTo(h.standin, (await ask("find globex")).responseId);
    expect(textOf(found.payload)).toContain("Globex Widgets");
    const missing = await answerTo(h.standin, (await ask("show nobody@nowhere.com")).responseId);
    expect(textOf(missing.payload)).toContain('No lead matches "nobody@nowhere.com"');
  });

  it("when won and lost are typed, then the outcome is recorded once and repeated ones say so", async () => {
    const won = await answerTo(h.standin, (await ask("won person1@company1.com")).responseId);
    expect(textOf(won.payload)).toContain("marked *won*");
    const again = await answerTo(h.standin, (await ask("won person1@company1.com")).responseId);
    expect(textOf(again.payload)).toContain("already marked won");
    const lost = await answerTo(
      h.standin,
      (await ask("lost person2@company2.com no_budget froze spend")).responseId,
    );
    expect(textOf(lost.payload)).toContain("marked *lost* (No budget)");
    const rows = await tdb.database.db.select().from(outcomes);
    expect(rows.map((r) => [r.outcome, r.reason, r.note, r.source, r.byUser])).toEqual(
      expect.arrayContaining([
        ["won", null, null, "slack-command", TEST_REP],
        ["lost", "no_budget", "froze spend", "slack-command", TEST_REP],
      ]),
    );
    expect(rows).toHaveLength(2);
  });

  it("when lost is typed without a reason, then the Lost modal opens and its submission records it", async () => {
    await ask("lost person2@company2.com");
    const open = await waitForCall(h.standin, (c) => c.method === "views.open");
    const view = open.params.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe("lost_reason_modal");
    const res = await h.driver.viewSubmission(TEST_REP, view, {
      lost_reason: {
        lost_reason_select: {
          type: "static_select",
          selected_option: {
            text: { type: "plain_text", text: "Bad timing" },
            value: "bad_timing",
          },
        },
      },
      lost_note: { lost_note_input: { type: "plain_text_input", value: null } },
    });
    expect(res.status).toBe(200);
    const rows = await tdb.database.db.select().from(outcomes);
    expect(rows.map((r) => [r.outcome, r.reason, r.source, r.byUser])).toEqual([
      ["lost", "bad_timing", "slack-command", TEST_REP],
    ]);
  });

  it("when assign, role, stats and history are used, then each answers and history shows them", async () => {
    const assigned = await answerTo(
      h.standin,
      // Routing a lead to someone else is an admin's or a manager's right (see authorization.test).
      (await ask(`assign person9@company9.com <@${TEST_REP2}|sam>`, TEST_ADMIN)).responseId,
    );
    expect(textOf(assigned.payload)).toContain(`now belongs to <@${TEST_REP2}>`);
    const refused = await answerTo(
      h.standin,
      (await ask(`role <@${TEST_REP2}> manager`)).responseId,
    );
    expect(textOf(refused.payload)).toContain("Only admins grant roles");
    const granted = await answerTo(
      h.standin,
      (await ask(`role <@${TEST_REP2}> manager`, TEST_ADMIN)).responseId,
    );
    expect(textOf(granted.payload)).toContain(`<@${TEST_REP2}> is now a manager`);
    const stats = await answerTo(h.standin, (await ask("stats")).responseId);
    // No outcomes yet: the funnel counts the 30 leads and the AUC says what it needs.
    expect(textOf(stats.payload)).toContain("*Funnel*: LEAD 30");
    expect(textOf(stats.payload)).toContain("AUC needs at least one won");
    const history = await answerTo(h.standin, (await ask("history")).responseId);
    const text = textOf(history.payload);
    expect(text).toContain("lead assigned");
    expect(text).toContain("role granted");
  });

  it("when thresholds or weights is typed, then a modal opens with the current values", async () => {
    await ask("thresholds");
    const t = await waitForCall(h.standin, (c) => c.method === "views.open");
    expect(textOf(t.params.view)).toMatch(/MQL/);
    h.standin.reset();
    await ask("weights");
    const w = await waitForCall(h.standin, (c) => c.method === "views.open");
    expect(textOf(w.params.view)).toContain("title_vp");
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureModel } from "../../src/services/models.js";
import {
  FIND_GRADE_BLOCK,
  FIND_MODAL,
  FIND_OPEN,
  FIND_OWNER_BLOCK,
  FIND_SAVE_BLOCK,
  FIND_STAGE_BLOCK,
  FIND_TEXT_BLOCK,
  HOME_FOUND_NEXT,
  HOME_FOUND_PAGES_BLOCK,
  HOME_FOUND_PREVIOUS,
  inputAction,
  ROUTING_EDIT,
  ROUTING_MODAL,
  ROUTING_RULES_BLOCK,
} from "../../src/slack/blocks/ids.js";
import { ALERT_ROUTED_BLOCK } from "../../src/slack/ids.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  hotLeadAlert,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_REP,
  TEST_REP2,
  textOf,
  waitForCall,
} from "../support/slack.js";

/**
 * The Find-leads form and lead routing, tried as a rep and an admin would: every step is a
 * signed request to the running app, answered through the Slack Web API stand-in.
 */

interface Block {
  type: string;
  block_id?: string;
  elements?: { action_id?: string }[];
}

const leadIdsOf = (blocks: unknown): number[] =>
  ((blocks ?? []) as Block[])
    .map((b) => /^lead_(\d+)$/.exec(b.block_id ?? "")?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number);

const opt = (value: string) => ({ text: { type: "plain_text", text: value }, value });

describe.each(testDatabases())("Find leads and routing end to end on $name", (config) => {
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

  /** The modal the last views.open call opened, with the id the stand-in gave it. */
  async function openedView(after: number) {
    const open = await waitForCall(h.standin, (c) => c.method === "views.open" && c.at >= after);
    const view = open.params.view as {
      callback_id: string;
      private_metadata: string;
      blocks: Record<string, unknown>[];
    };
    const id = String((open.response?.view as { id?: string } | undefined)?.id);
    return { id, ...view };
  }

  it("when a rep filters SQL leads of grade A owned by nobody and saves the view, then /lead top 20 view:<name> lists the same leads", async () => {
    const s = h.app.services;
    // Four hot leads reach SQL with grade A; one of them is owned, one is a weaker fit.
    const hot = [];
    for (let i = 0; i < 4; i++) {
      hot.push(
        await hotLeadAlert(s, h.standin, {
          email: `hot${i}@acme${i}.com`,
          lastName: `Hot ${i}`,
          ...(i === 0 ? { owner: TEST_REP2 } : {}),
        }),
      );
    }
    const [owned, ...unowned] = hot;
    const detail = await s.leads.get(String(unowned[0]?.leadId));
    expect(detail).toMatchObject({ stage: "sql", grade: "A" });

    const before = Date.now();
    const cmd = await h.driver.command(TEST_REP, "find", { channelId: "C0SALES01" });
    expect(cmd.status).toBe(200);
    const view = await openedView(before);
    expect(view.callback_id).toBe(FIND_MODAL);

    const submit = await h.driver.viewSubmission(TEST_REP, view, {
      [FIND_STAGE_BLOCK]: {
        [inputAction(FIND_STAGE_BLOCK)]: { type: "static_select", selected_option: opt("sql") },
      },
      [FIND_GRADE_BLOCK]: {
        [inputAction(FIND_GRADE_BLOCK)]: {
          type: "multi_static_select",
          selected_options: [opt("A")],
        },
      },
      [FIND_OWNER_BLOCK]: {
        [inputAction(FIND_OWNER_BLOCK)]: {
          type: "static_select",
          selected_option: opt("nobody"),
        },
      },
      [FIND_SAVE_BLOCK]: {
        [inputAction(FIND_SAVE_BLOCK)]: { type: "plain_text_input", value: "hot-a" },
      },
    });
    expect(submit.status).toBe(200);
    expect(submit.body).toBe("");

    const posted = await waitForCall(h.standin, (c) => c.method === "chat.postEphemeral");
    expect(posted.params).toMatchObject({ channel: "C0SALES01", user: TEST_REP });
    const found = leadIdsOf(posted.params.blocks);
    expect(new Set(found)).toEqual(new Set(unowned.map((u) => u.leadId)));
    expect(found).not.toContain(owned?.leadId);
    expect(textOf(posted.params.blocks)).toContain("view:hot-a");

    const top = await h.driver.command(TEST_REP, "top 20 view:hot-a");
    const answer = await answerTo(h.standin, top.responseId);
    expect(leadIdsOf((answer.payload as { blocks?: unknown }).blocks)).toEqual(found);

    // The same filters as query parameters of the API give the same leads.
    const res = await fetch(`${h.baseUrl}/api/v1/leads?top=20&stage=sql&grade=A&owner=nobody`, {
      headers: { authorization: `Bearer ${h.apiToken}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { leads: { id: number }[] };
    expect(body.leads.map((l) => l.id)).toEqual(found);
    const badRes = await fetch(`${h.baseUrl}/api/v1/leads?grade=Z`, {
      headers: { authorization: `Bearer ${h.apiToken}` },
    });
    expect(badRes.status).toBe(400);

    // The form remembers the filters used last.
    const again = Date.now();
    await h.driver.command(TEST_REP, "find");
    const reopened = await openedView(again);
    const stage = reopened.blocks.find((b) => b.block_id === FIND_STAGE_BLOCK) as {
      element: { initial_option?: { value: string } };
    };
    expect(stage.element.initial_option?.value).toBe("sql");

    // Another rep has no such view.
    const other = await h.driver.command(TEST_REP2, "top 20 view:hot-a");
    const refused = await answerTo(h.standin, other.responseId);
    expect(textOf(refused.payload)).toContain('You have no view named "hot-a"');
  });

  it("when the form is opened from the Home tab, then the leads found head the Home tab", async () => {
    const { leadId } = await hotLeadAlert(h.app.services, h.standin, {
      email: "home@hooli.com",
      company: "Hooli",
    });
    const before = Date.now();
    await h.driver.blockAction(TEST_REP, { actionId: FIND_OPEN, view: { id: "VHOME0001" } });
    const view = await openedView(before);
    expect(JSON.parse(view.private_metadata)).toEqual({ from: "home" });
    const submit = await h.driver.viewSubmission(TEST_REP, view, {
      [FIND_TEXT_BLOCK]: {
        [inputAction(FIND_TEXT_BLOCK)]: { type: "plain_text_input", value: "hooli" },
      },
    });
    expect(submit.status).toBe(200);
    const published = await waitForCall(h.standin, (c) => c.method === "views.publish");
    expect(published.params.user_id).toBe(TEST_REP);
    const home = textOf(published.params.view);
    expect(home).toContain('matching "hooli"');
    expect(home).toContain(`/lead why ${leadId}`);
  });

  it("when a Home-tab search finds more than a page, then Next and Previous page through it on the Home tab", async () => {
    const upserted = await h.app.services.upsertLeads(
      Array.from({ length: 25 }, (_, i) => ({
        email: `p${String(i).padStart(2, "0")}@hooli.com`,
        company: "Hooli",
        title: i % 2 === 0 ? "VP Sales" : "Engineer",
      })),
    );
    expect(upserted.leads).toHaveLength(25);
    const all = await h.app.services.leads.search({ q: "hooli" }, { limit: 100 });
    expect(all).toHaveLength(25);
    const rankOf = (home: string, id: number) =>
      new RegExp(`(\\d+)\\. [^\\n]*/lead why ${id}\``).exec(home)?.[1];

    // Counted, not timed: two publishes can fall in the same millisecond.
    const publishes = () => h.standin.callsTo("views.publish");
    /** The Home tab of the `n`th publish (from 0), once it has been made. */
    const published = async (n: number) => {
      const call = await eventually(() => publishes()[n]);
      const v = call.params.view as { blocks: Block[] & { elements?: { value?: string }[] }[] };
      const pages = v.blocks.find((b) => b.block_id === HOME_FOUND_PAGES_BLOCK) as
        | { elements: { action_id: string; value: string }[] }
        | undefined;
      return { text: textOf(v), buttons: pages?.elements ?? [] };
    };
    const before = Date.now();
    await h.driver.blockAction(TEST_REP, { actionId: FIND_OPEN, view: { id: "VHOME0001" } });
    const view = await openedView(before);
    const submitted = publishes().length;
    await h.driver.viewSubmission(TEST_REP, view, {
      [FIND_TEXT_BLOCK]: {
        [inputAction(FIND_TEXT_BLOCK)]: { type: "plain_text_input", value: "hooli" },
      },
    });
    const first = await published(submitted);
    expect(first.text).toContain("Leads found* (1–20)");
    expect(rankOf(first.text, all[0]?.id as number)).toBe("1");
    expect(rankOf(first.text, all[19]?.id as number)).toBe("20");
    expect(first.text).not.toContain(`/lead why ${all[20]?.id}\``);
    expect(first.buttons.map((b) => b.action_id)).toEqual([HOME_FOUND_NEXT]);

    /** Presses a button of the Home tab and returns the Home tab published after it. */
    const press = async (actionId: string, value: string) => {
      const n = publishes().length;
      const res = await h.driver.blockAction(TEST_REP, {
        actionId,
        value,
        view: { id: "VHOME0001" },
      });
      expect(res.status).toBe(200);
      return published(n);
    };
    const second = await press(HOME_FOUND_NEXT, first.buttons[0]?.value as string);
    expect(second.text).toContain("Leads found* (21–25)");
    expect(rankOf(second.text, all[20]?.id as number)).toBe("21");
    expect(rankOf(second.text, all[24]?.id as number)).toBe("25");
    expect(second.text).not.toContain(`/lead why ${all[0]?.id}\``);
    expect(second.buttons.map((b) => b.action_id)).toEqual([HOME_FOUND_PREVIOUS]);

    const back = await press(HOME_FOUND_PREVIOUS, second.buttons[0]?.value as string);
    expect(back.text).toContain("Leads found* (1–20)");
    expect(rankOf(back.text, all[0]?.id as number)).toBe("1");

    // A value it cannot read (forged, or filters no longer valid) shows the Home tab without it.
    for (const value of ['{"filters":{"stage":"nope"},"offset":0}', "not json", '{"offset":-1}']) {
      const plain = await press(HOME_FOUND_NEXT, value);
      expect(plain.text).not.toContain("Leads found");
      expect(plain.text).toContain("My top leads");
    }
  });

  it("when an admin adds a round robin for two reps in the modal and leads cross MQL, then they alternate, each owner gets a DM and the alert names the rule", async () => {
    const overview = await h.driver.command(TEST_ADMIN, "routing");
    const shown = await answerTo(h.standin, overview.responseId);
    expect(textOf(shown.payload)).toContain("none");
    const message = shown.payload as { blocks?: Block[]; text?: string };
    const edit = (message.blocks ?? []).find((b) =>
      b.elements?.some((e) => e.action_id === ROUTING_EDIT),
    );
    expect(edit).toBeDefined();

    const before = Date.now();
    await h.driver.blockAction(TEST_ADMIN, {
      actionId: ROUTING_EDIT,
      message: { ts: "1.000001", text: message.text ?? "", blocks: message.blocks ?? [] },
    });
    const view = await openedView(before);
    expect(view.callback_id).toBe(ROUTING_MODAL);
    const rules = `rules:\n  - name: Inbound rotation\n    when:\n      - { field: country, op: equals, value: US }\n    target: { kind: round_robin, users: [${TEST_REP}, ${TEST_REP2}] }\n`;
    const applied = await h.driver.viewSubmission(TEST_ADMIN, view, {
      [ROUTING_RULES_BLOCK]: {
        [inputAction(ROUTING_RULES_BLOCK)]: { type: "plain_text_input", value: rules },
      },
    });
    expect(applied.status).toBe(200);
    expect(applied.body).toBe("");

    // A rep cannot apply rules from the modal: the error shows beside the text.
    const refused = await h.driver.viewSubmission(TEST_REP, view, {
      [ROUTING_RULES_BLOCK]: {
        [inputAction(ROUTING_RULES_BLOCK)]: { type: "plain_text_input", value: "rules: []" },
      },
    });
    expect(refused.json).toMatchObject({ response_action: "errors" });

    const owners: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const { message: alert, leadId } = await hotLeadAlert(h.app.services, h.standin, {
        email: `routed${i}@globex${i}.com`,
        lastName: `Routed ${i}`,
      });
      const lead = await h.app.services.leads.get(String(leadId));
      owners.push(lead.owner);
      const routed = (alert.blocks as Block[] | undefined)?.find(
        (b) => b.block_id === ALERT_ROUTED_BLOCK,
      );
      expect(textOf(routed)).toContain(`<@${lead.owner}>`);
      expect(textOf(routed)).toContain("Inbound rotation");
    }
    expect(owners[0]).not.toBe(owners[1]);
    expect(owners).toEqual([owners[0], owners[1], owners[0], owners[1]]);
    expect(new Set(owners)).toEqual(new Set([TEST_REP, TEST_REP2]));

    for (const rep of [TEST_REP, TEST_REP2]) {
      const dms = await eventually(() => {
        const list = h.standin.messages(h.standin.dmChannel(rep));
        return list.length >= 2 ? list : undefined;
      });
      expect(dms).toHaveLength(2);
      expect(textOf(dms[0]?.blocks)).toContain("Won");
    }
    expect(h.standin.messages(TEST_ALERT_CHANNEL)).toHaveLength(4);

    const show = await h.driver.command(TEST_REP, "show routed0@globex0.com");
    const detail = await answerTo(h.standin, show.responseId);
    expect(textOf(detail.payload)).toContain("routed by rule *Inbound rotation*");

    const after = await h.driver.command(TEST_REP, "routing");
    const shares = textOf((await answerTo(h.standin, after.responseId)).payload);
    expect(shares).toContain(`<@${TEST_REP}>: 2 (2 routed, 0 claimed, 0 assigned)`);
    expect(shares).toContain(`<@${TEST_REP2}>: 2 (2 routed, 0 claimed, 0 assigned)`);
    expect(shares).not.toContain("Edit rules");
  });

  it("when a rep of the rotation is away, then routing skips them until they are back", async () => {
    await h.app.services.routing.apply({
      text: `rules:\n  - name: Everyone\n    target: { kind: round_robin, users: [${TEST_REP}, ${TEST_REP2}] }\n`,
      by: TEST_ADMIN,
    });
    const away = await h.driver.command(TEST_REP2, "away until 2099-12-24");
    expect(textOf((await answerTo(h.standin, away.responseId)).payload)).toContain(
      "routing skips you until 2099-12-24",
    );
    for (let i = 0; i < 3; i++) {
      const { leadId } = await hotLeadAlert(h.app.services, h.standin, {
        email: `away${i}@initech${i}.com`,
      });
      expect((await h.app.services.leads.get(String(leadId))).owner).toBe(TEST_REP);
    }
    const back = await h.driver.command(TEST_REP2, "away off");
    await answerTo(h.standin, back.responseId);
    const owners = new Set<string | null>();
    for (let i = 0; i < 2; i++) {
      const { leadId } = await hotLeadAlert(h.app.services, h.standin, {
        email: `back${i}@initech${i}.com`,
      });
      owners.add((await h.app.services.leads.get(String(leadId))).owner);
    }
    expect(owners).toEqual(new Set([TEST_REP, TEST_REP2]));
  });
});

import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { leads, outcomes } from "../../src/db/schema.js";
import { ensureModel } from "../../src/services/models.js";
import {
  ALERT_CLAIM,
  ALERT_LOST,
  ALERT_NOT_A_FIT,
  ALERT_WON,
  LOST_NOTE_ACTION,
  LOST_NOTE_BLOCK,
  LOST_REASON_ACTION,
  LOST_REASON_BLOCK,
  LOST_REASON_MODAL,
} from "../../src/slack/ids.js";
import type { StoredMessage } from "../../src/slack/local/standin/index.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  hotLeadAlert,
  type SlackHarness,
  startSlackHarness,
  TEST_ALERT_CHANNEL,
  TEST_REP,
  TEST_REP2,
  textOf,
  waitForCall,
} from "../support/slack.js";

interface Block {
  type: string;
  block_id?: string;
  elements?: { action_id?: string; value?: string }[];
}

describe.each(testDatabases())("alert buttons over HTTP on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;
  let seq = 0;

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

  /** A hot lead ingested the real way; resolves with the alert the dispatcher posted for it. */
  function alertFor(owner?: string): Promise<{ message: StoredMessage; leadId: number }> {
    seq += 1;
    return hotLeadAlert(h.app.services, h.standin, {
      email: `hot${seq}@acme${seq}.com`,
      lastName: `Lead ${seq}`,
      company: `Acme ${seq}`,
      ...(owner ? { owner } : {}),
    });
  }

  function button(m: StoredMessage, actionId: string): string {
    const b = (m.blocks as Block[])
      .flatMap((x) => x.elements ?? [])
      .find((e) => e.action_id === actionId);
    if (!b?.value) throw new Error(`no ${actionId} button`);
    return b.value;
  }

  function press(user: string, m: StoredMessage, actionId: string) {
    return h.driver.blockAction(user, {
      actionId,
      value: button(m, actionId),
      message: { ts: m.ts, blocks: m.blocks ?? [], text: m.text },
      channel: { id: TEST_ALERT_CHANNEL },
    });
  }

  async function outcomesOf(leadId: number) {
    return tdb.database.db.select().from(outcomes).where(eq(outcomes.leadId, leadId));
  }

  it("when Won is pressed, then the outcome is recorded with who and which alert, and the alert shows it", async () => {
    const { message, leadId } = await alertFor();
    const alertId = Number(message.metadata?.event_payload.alert_id);
    const res = await press(TEST_REP, message, ALERT_WON);
    expect(res.status).toBe(200);
    const update = await waitForCall(h.standin, (c) => c.method === "chat.update");
    expect(update.params).toMatchObject({ channel: TEST_ALERT_CHANNEL, ts: message.ts });
    expect(textOf(update.params.blocks)).toContain(`Marked *Won* by <@${TEST_REP}>`);
    expect((update.params.blocks as Block[]).some((b) => b.type === "actions")).toBe(false);
    const rows = await outcomesOf(leadId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: "won",
      byUser: TEST_REP,
      source: "slack-alert",
      alertId,
    });
    // The message in the channel now carries the outcome.
    expect(
      textOf(h.standin.messages(TEST_ALERT_CHANNEL).find((m) => m.ts === message.ts)?.blocks),
    ).toContain("Marked *Won*");
  });

  it("when Won is double-clicked, then one outcome is recorded", async () => {
    const { message, leadId } = await alertFor();
    const [a, b] = await Promise.all([
      press(TEST_REP, message, ALERT_WON),
      press(TEST_REP, message, ALERT_WON),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await eventually(async () => (h.standin.callsTo("chat.update").length >= 2 ? true : undefined));
    expect(await outcomesOf(leadId)).toHaveLength(1);
  });

  it("when Not a fit is pressed, then not_a_fit is recorded and shown", async () => {
    const { message, leadId } = await alertFor();
    await press(TEST_REP2, message, ALERT_NOT_A_FIT);
    const update = await waitForCall(h.standin, (c) => c.method === "chat.update");
    expect(textOf(update.params.blocks)).toContain("Marked *Not a fit*");
    expect((await outcomesOf(leadId))[0]).toMatchObject({
      outcome: "not_a_fit",
      byUser: TEST_REP2,
    });
  });

  it("when Claim is pressed, then the lead is the clicker's; a second rep's claim is refused by name", async () => {
    const { message, leadId } = await alertFor();
    await press(TEST_REP, message, ALERT_CLAIM);
    const update = await waitForCall(h.standin, (c) => c.method === "chat.update");
    expect(textOf(update.params.blocks)).toContain(`Claimed by <@${TEST_REP}>`);
    const buttons = (update.params.blocks as Block[])
      .flatMap((b) => b.elements ?? [])
      .map((e) => e.action_id);
    expect(buttons).toEqual([ALERT_WON, ALERT_LOST, ALERT_NOT_A_FIT]);
    const [row] = await tdb.database.db
      .select({ owner: leads.owner })
      .from(leads)
      .where(eq(leads.id, leadId));
    expect(row?.owner).toBe(TEST_REP);

    const second = await press(TEST_REP2, message, ALERT_CLAIM);
    const refusal = await answerTo(h.standin, second.responseId);
    expect(refusal.payload).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(refusal.payload)).toContain(`<@${TEST_REP}> already owns this lead`);
  });

  it("when a button's value is not one this app made, then the clicker is told it is out of date", async () => {
    const { message } = await alertFor();
    const res = await h.driver.blockAction(TEST_REP, {
      actionId: ALERT_WON,
      value: JSON.stringify({ alertId: "one", leadId: -1 }),
      message: { ts: message.ts, blocks: message.blocks ?? [], text: message.text },
      channel: { id: TEST_ALERT_CHANNEL },
    });
    const answer = await answerTo(h.standin, res.responseId);
    expect(answer.payload).toMatchObject({ response_type: "ephemeral", replace_original: false });
    expect(textOf(answer.payload)).toContain("This button or form is out of date");
    expect(textOf(answer.payload)).not.toContain("Something went wrong");
  });

  it("when Lost is pressed and the modal submitted, then lost is recorded with reason and note", async () => {
    const { message, leadId } = await alertFor();
    await press(TEST_REP, message, ALERT_LOST);
    const open = await waitForCall(h.standin, (c) => c.method === "views.open");
    const view = open.params.view as {
      callback_id: string;
      private_metadata: string;
      blocks: unknown[];
    };
    expect(view.callback_id).toBe(LOST_REASON_MODAL);
    const viewId = String((open.response?.view as { id?: string } | undefined)?.id);

    const other = (note?: string) => ({
      [LOST_REASON_BLOCK]: {
        [LOST_REASON_ACTION]: {
          type: "static_select",
          selected_option: { text: { type: "plain_text", text: "Other" }, value: "other" },
        },
      },
      [LOST_NOTE_BLOCK]: { [LOST_NOTE_ACTION]: { type: "plain_text_input", value: note ?? null } },
    });
    const refused = await h.driver.viewSubmission(TEST_REP, { id: viewId, ...view }, other());
    expect(refused.json).toEqual({
      response_action: "errors",
      errors: { [LOST_NOTE_BLOCK]: "Say what happened when the reason is Other." },
    });
    expect(await outcomesOf(leadId)).toHaveLength(0);

    const ok = await h.driver.viewSubmission(
      TEST_REP,
      { id: viewId, ...view },
      other("Budget moved to next year"),
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toBe("");
    const update = await waitForCall(h.standin, (c) => c.method === "chat.update");
    expect(textOf(update.params.blocks)).toContain("Marked *Lost*");
    expect(textOf(update.params.blocks)).toContain("Reason: other");
    expect((await outcomesOf(leadId))[0]).toMatchObject({
      outcome: "lost",
      reason: "other",
      note: "Budget moved to next year",
      byUser: TEST_REP,
      alertId: Number(message.metadata?.event_payload.alert_id),
    });
  });

  it("when the Lost modal's trigger has expired, then the clicker is told to press again", async () => {
    const { message } = await alertFor();
    h.standin.failNext("views.open", { error: "expired_trigger_id" });
    const res = await press(TEST_REP, message, ALERT_LOST);
    const answer = await answerTo(h.standin, res.responseId);
    expect(textOf(answer.payload)).toContain("Press *Lost* again");
  });

  it("when /lead won names a lead with an alert, then that alert is updated in place too", async () => {
    const { message, leadId } = await alertFor();
    const res = await h.driver.command(TEST_REP, `won ${leadId}`);
    expect(textOf((await answerTo(h.standin, res.responseId)).payload)).toContain("marked *won*");
    const update = await waitForCall(h.standin, (c) => c.method === "chat.update");
    expect(update.params.ts).toBe(message.ts);
    expect((await outcomesOf(leadId))[0]).toMatchObject({ source: "slack-command" });
  });
});

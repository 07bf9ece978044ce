import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Impact } from "../../src/core/impact.js";
import { auditLog, proposals } from "../../src/db/schema.js";
import { activeModel, ensureModel, insertModelVersion } from "../../src/services/models.js";
import { pendingProposals } from "../../src/services/proposals.js";
import { grantRole, teamStats } from "../../src/services/team.js";
import { MAX_RULE_INPUTS } from "../../src/slack/blocks/tuning/index.js";
import {
  PROPOSAL_ACTIONS_BLOCK,
  PROPOSAL_APPROVE,
  PROPOSAL_DECISION_MODAL,
  PROPOSAL_REASON_ACTION,
  PROPOSAL_REASON_BLOCK,
  PROPOSAL_REJECT,
  PROPOSAL_STATUS_BLOCK,
  TUNING_HYSTERESIS_BLOCK,
  TUNING_MQL_ACTION,
  TUNING_MQL_BLOCK,
  TUNING_NOTE_BLOCK,
  TUNING_PREVIEW_BLOCK,
  TUNING_RULE_PICKER_ACTION,
  TUNING_RULE_PICKER_BLOCK,
  TUNING_SQL_ACTION,
  TUNING_SQL_BLOCK,
  TUNING_THRESHOLDS_MODAL,
  TUNING_WEIGHT_ACTION,
  TUNING_WEIGHTS_MODAL,
} from "../../src/slack/ids.js";
import type { ViewStateValues } from "../../src/slack/local/driver.js";
import type { StandinCall, StoredMessage } from "../../src/slack/local/standin/index.js";
import { weightBlockId } from "../../src/slack/tuning/state.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import {
  answerTo,
  eventually,
  type SlackHarness,
  startSlackHarness,
  TEST_ADMIN,
  TEST_ALERT_CHANNEL,
  TEST_MANAGER,
  TEST_REP,
  textOf,
} from "../support/slack.js";

const DAY = 86_400_000;
/** Time stands still in these tests, so a preview and the rescore after approval agree exactly. */
const NOW = Date.now();

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
  element?: { type: string; action_id?: string; initial_value?: string };
  elements?: { action_id?: string; value?: string }[];
}

interface OpenModal {
  viewId: string;
  callbackId: string;
  metadata: string;
}

describe.each(testDatabases())("model tuning from Slack on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({ database: tdb.database, clock: () => NOW });
  });

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  beforeEach(async () => {
    const db = tdb.database.db;
    await truncateAll(db);
    await ensureModel(db);
    await grantRole(db, {
      by: TEST_ADMIN,
      userId: TEST_MANAGER,
      role: "manager",
      admins: [TEST_ADMIN],
    });
    h.standin.reset();
    await seed();
  });

  /** Thirty leads of mixed fit with zero to four events each: some leads, some MQLs. */
  async function seed(): Promise<void> {
    const s = h.app.services;
    const leads = Array.from({ length: 30 }, (_, i) => ({
      email: `person${i}@company${i}.com`,
      firstName: "Person",
      lastName: `${i}`,
      title: i % 3 === 0 ? "VP of Sales" : "Engineer",
      company: `Company ${i}`,
      industry: "Software",
      employees: 800,
      country: "US",
    }));
    expect((await s.upsertLeads(leads)).errors).toEqual([]);
    const events = leads.flatMap((l, i) =>
      Array.from({ length: i % 5 }, (_, k) => ({
        id: `seed-${i}-${k}`,
        email: l.email,
        type: k === 0 ? "demo_request" : "email_click",
        occurredAt: new Date(NOW - (k + 1) * DAY).toISOString(),
      })),
    );
    expect((await s.recordEvents(events)).errors).toEqual([]);
    await s.scoring.flush();
  }

  /** Runs `act`, then waits for the first call after it that matches. */
  async function callAfter(
    act: () => Promise<unknown>,
    match: (c: StandinCall) => boolean,
  ): Promise<StandinCall> {
    const from = h.standin.calls.length;
    await act();
    return eventually(() =>
      h.standin.calls.slice(from).find((c) => c.response !== undefined && match(c)),
    );
  }

  function storedView(viewId: string) {
    const v = h.standin.views.get(viewId);
    if (!v) throw new Error(`view ${viewId} is not open`);
    return v;
  }

  function blocksOfView(viewId: string): Block[] {
    return (storedView(viewId).view.blocks ?? []) as Block[];
  }

  function previewText(viewId: string): string {
    return blocksOfView(viewId).find((b) => b.block_id === TUNING_PREVIEW_BLOCK)?.text?.text ?? "";
  }

  /** The modal's fields as Slack would send them: what the person sees, with `edits` typed over. */
  function stateOf(viewId: string, edits: Record<string, string> = {}): ViewStateValues {
    const values: ViewStateValues = {};
    for (const b of blocksOfView(viewId)) {
      if (b.type !== "input" || !b.block_id || !b.element?.action_id) continue;
      const value = edits[b.block_id] ?? b.element.initial_value ?? null;
      values[b.block_id] = { [b.element.action_id]: { type: b.element.type, value } };
    }
    return values;
  }

  /** `/lead <kind>` by `user`: the modal opens, then shows the current model's numbers. */
  async function open(user: string, kind: "thresholds" | "weights"): Promise<OpenModal> {
    const res = await h.driver.command(user, kind);
    expect(res.status).toBe(200);
    const opened = await eventually(() =>
      h.standin
        .callsTo("views.open")
        .find((c) => c.params.trigger_id === res.triggerId && c.response),
    );
    const viewId = String((opened.response?.view as { id?: string } | undefined)?.id);
    await eventually(() =>
      previewText(viewId).includes("Nothing changed yet") ? true : undefined,
    );
    const view = storedView(viewId).view;
    return {
      viewId,
      callbackId: String(view.callback_id),
      metadata: String(view.private_metadata),
    };
  }

  /** An edit in a dispatch_action field; resolves once the preview shows `expect`. */
  async function edit(
    user: string,
    m: OpenModal,
    field: { block: string; action: string },
    edits: Record<string, string>,
  ): Promise<StandinCall> {
    const stored = storedView(m.viewId);
    const view = {
      id: m.viewId,
      callback_id: m.callbackId,
      private_metadata: m.metadata,
      hash: stored.hash,
      state: { values: stateOf(m.viewId, edits) },
    };
    return callAfter(
      () =>
        h.driver.blockAction(user, {
          actionId: field.action,
          blockId: field.block,
          elementType: "number_input",
          view,
        }),
      (c) => c.method === "views.update" && c.params.view_id === m.viewId,
    );
  }

  async function submit(user: string, m: OpenModal, edits: Record<string, string>) {
    const res = await h.driver.viewSubmission(
      user,
      { id: m.viewId, callback_id: m.callbackId, private_metadata: m.metadata },
      stateOf(m.viewId, edits),
    );
    expect(res.status).toBe(200);
    return res;
  }

  function dms(user: string): StoredMessage[] {
    return h.standin.messages(h.standin.dmChannel(user));
  }

  function withButtons(messages: StoredMessage[], proposalId: number): StoredMessage | undefined {
    return messages.find((m) =>
      (m.blocks as Block[] | undefined)?.some(
        (b) =>
          b.block_id === PROPOSAL_ACTIONS_BLOCK &&
          b.elements?.some((e) => e.value === String(proposalId)),
      ),
    );
  }

  /** Proposes new thresholds through the modal as `user`; resolves once every message went out. */
  async function propose(
    user: string,
    thresholds: { mql?: string; sql?: string; hysteresis?: string },
  ) {
    const before = (await pendingProposals(tdb.database.db)).length;
    const m = await open(user, "thresholds");
    const edits: Record<string, string> = {};
    if (thresholds.mql) edits[TUNING_MQL_BLOCK] = thresholds.mql;
    if (thresholds.sql) edits[TUNING_SQL_BLOCK] = thresholds.sql;
    if (thresholds.hysteresis) edits[TUNING_HYSTERESIS_BLOCK] = thresholds.hysteresis;
    const res = await submit(user, m, edits);
    expect(res.body).toBe("");
    const proposal = await eventually(async () => {
      const rows = await pendingProposals(tdb.database.db);
      return rows.length > before ? rows[0] : undefined;
    });
    // The proposer's own copy goes out last.
    await eventually(() =>
      dms(user).find((msg) => msg.metadata?.event_payload.proposal_id === proposal.id),
    );
    return proposal;
  }

  async function click(
    user: string,
    action: typeof PROPOSAL_APPROVE | typeof PROPOSAL_REJECT,
    message: StoredMessage,
    proposalId: number,
  ) {
    return h.driver.blockAction(user, {
      actionId: action,
      blockId: PROPOSAL_ACTIONS_BLOCK,
      value: String(proposalId),
      message: { ts: message.ts, text: message.text, blocks: message.blocks ?? [] },
      channel: { id: message.channel },
    });
  }

  async function proposalRow(id: number) {
    const [row] = await tdb.database.db.select().from(proposals).where(eq(proposals.id, id));
    if (!row) throw new Error(`proposal ${id} missing`);
    return row;
  }

  it("when /lead thresholds is run, then the modal opens with the active values and then the current numbers", async () => {
    const m = await open(TEST_REP, "thresholds");
    expect(m.callbackId).toBe(TUNING_THRESHOLDS_MODAL);
    const fields = blocksOfView(m.viewId).filter((b) => b.type === "input");
    expect(fields.map((b) => [b.block_id, b.element?.initial_value])).toEqual([
      [TUNING_MQL_BLOCK, "50"],
      [TUNING_SQL_BLOCK, "80"],
      [TUNING_HYSTERESIS_BLOCK, "5"],
      [TUNING_NOTE_BLOCK, undefined],
    ]);
    const stats = await teamStats(tdb.database.db, NOW);
    expect(previewText(m.viewId)).toContain(
      `The current model scores 30 leads: Lead ${stats.stages.lead} · MQL ${stats.stages.mql} · SQL ${stats.stages.sql}.`,
    );
    // The first write after opening used the hash views.open returned.
    const update = h.standin.callsTo("views.update")[0];
    const opened = h.standin.callsTo("views.open")[0];
    expect(update?.params.hash).toBe(
      (opened?.response?.view as { hash?: string } | undefined)?.hash,
    );
  });

  it("when Slack refuses the trigger as expired, then the person is told to run the command again", async () => {
    h.standin.failNext("views.open", { error: "expired_trigger_id" });
    const res = await h.driver.command(TEST_REP, "thresholds");
    const answer = await answerTo(h.standin, res.responseId);
    expect(textOf(answer.payload)).toContain(
      "Slack took too long to open the form. Run /lead thresholds again.",
    );
  });

  it("when a threshold is edited, then the preview shows the diff and how many leads move", async () => {
    const m = await open(TEST_REP, "thresholds");
    const update = await edit(
      TEST_REP,
      m,
      { block: TUNING_MQL_BLOCK, action: TUNING_MQL_ACTION },
      {
        [TUNING_MQL_BLOCK]: "10",
        [TUNING_SQL_BLOCK]: "20",
      },
    );
    expect(update.response?.ok).toBe(true);
    const text = previewText(m.viewId);
    expect(text).toContain("• MQL threshold: 50 → 10");
    expect(text).toContain("• SQL threshold: 80 → 20");
    expect(text).toMatch(/\*\d+ leads?\* of 30 would change stage: \d+ up, 0 down\./);
    // What was typed stays in the fields.
    const mql = blocksOfView(m.viewId).find((b) => b.block_id === TUNING_MQL_BLOCK);
    expect(mql?.element?.initial_value).toBe("10");
  });

  it("when an edit cannot be measured, then the preview says which value to fix", async () => {
    const m = await open(TEST_REP, "thresholds");
    await edit(
      TEST_REP,
      m,
      { block: TUNING_SQL_BLOCK, action: TUNING_SQL_ACTION },
      { [TUNING_SQL_BLOCK]: "40" },
    );
    expect(previewText(m.viewId)).toContain(
      "SQL threshold: The SQL threshold must be above the MQL threshold (50).",
    );
  });

  it("when invalid values are submitted, then each error sits on its field and nothing is proposed", async () => {
    const m = await open(TEST_REP, "thresholds");
    const bad = await submit(TEST_REP, m, {
      [TUNING_MQL_BLOCK]: "fifty",
      [TUNING_HYSTERESIS_BLOCK]: "-3",
    });
    expect(bad.json).toEqual({
      response_action: "errors",
      errors: {
        [TUNING_MQL_BLOCK]: expect.stringContaining('"fifty" is not a number'),
        [TUNING_HYSTERESIS_BLOCK]: expect.stringContaining("cannot be negative"),
      },
    });
    const order = await submit(TEST_REP, m, { [TUNING_MQL_BLOCK]: "90" });
    expect(order.json).toEqual({
      response_action: "errors",
      errors: { [TUNING_SQL_BLOCK]: "The SQL threshold must be above the MQL threshold (90)." },
    });
    const same = await submit(TEST_REP, m, {});
    expect(same.json).toEqual({
      response_action: "errors",
      errors: { [TUNING_MQL_BLOCK]: "Nothing changed: edit a threshold before proposing." },
    });
    expect(await pendingProposals(tdb.database.db)).toEqual([]);
  });

  it("when MQL 0 or a hysteresis as wide as MQL is submitted, then the model schema's sentence sits on that field", async () => {
    const m = await open(TEST_REP, "thresholds");
    const zero = await submit(TEST_REP, m, { [TUNING_MQL_BLOCK]: "0" });
    expect(zero.json).toEqual({
      response_action: "errors",
      errors: {
        [TUNING_MQL_BLOCK]: "The MQL threshold must be above 0, or every new lead would be an MQL.",
      },
    });
    const wide = await submit(TEST_REP, m, { [TUNING_MQL_BLOCK]: "4" });
    expect(wide.json).toEqual({
      response_action: "errors",
      errors: {
        [TUNING_HYSTERESIS_BLOCK]:
          "Hysteresis must be below the MQL threshold (4), or no MQL would ever drop back.",
      },
    });
    expect(await pendingProposals(tdb.database.db)).toEqual([]);
  });

  it("when a valid change is submitted, then it is stored and every manager and the alert channel get it", async () => {
    const m = await open(TEST_REP, "thresholds");
    const res = await submit(TEST_REP, m, {
      [TUNING_MQL_BLOCK]: "10",
      [TUNING_SQL_BLOCK]: "20",
      [TUNING_NOTE_BLOCK]: "Sales wants more at-bats",
    });
    expect(res.body).toBe("");
    const proposal = await eventually(async () => (await pendingProposals(tdb.database.db))[0]);
    expect(proposal).toMatchObject({
      kind: "thresholds",
      baseVersion: 1,
      proposedBy: TEST_REP,
      note: "Sales wants more at-bats",
      diff: ["MQL threshold: 50 → 10", "SQL threshold: 80 → 20"],
    });
    expect(proposal.definition.thresholds).toEqual({ mql: 10, sql: 20, hysteresis: 5 });
    for (const manager of [TEST_ADMIN, TEST_MANAGER]) {
      const dm = await eventually(() => withButtons(dms(manager), proposal.id));
      expect(textOf(dm.blocks)).toContain("MQL threshold: 50 → 10");
      expect(textOf(dm.blocks)).toMatch(/would change stage|No lead/);
    }
    const posted = await eventually(() =>
      withButtons(h.standin.messages(TEST_ALERT_CHANNEL), proposal.id),
    );
    expect(posted.metadata?.event_payload).toEqual({ proposal_id: proposal.id });
    // The proposer's copy names who was asked and has no buttons.
    const own = await eventually(() =>
      dms(TEST_REP).find((x) => x.metadata?.event_payload.proposal_id === proposal.id),
    );
    expect(withButtons([own], proposal.id)).toBeUndefined();
    expect(textOf(own.blocks)).toContain("Sent for approval to");
    // Where the messages went is recorded after the last of them is posted.
    const audit = await eventually(async () => {
      const rows = await tdb.database.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.subject, `proposal:${proposal.id}`));
      return rows.length >= 2 ? rows : undefined;
    });
    expect(audit.map((a) => a.action).sort()).toEqual(["proposal.created", "proposal.posted"]);
  });

  it("when a rep clicks Approve, then only they are told that managers decide", async () => {
    const proposal = await propose(TEST_REP, { mql: "10", sql: "20" });
    const message = await eventually(() =>
      withButtons(h.standin.messages(TEST_ALERT_CHANNEL), proposal.id),
    );
    const res = await click(TEST_REP, PROPOSAL_APPROVE, message, proposal.id);
    const answer = await answerTo(h.standin, res.responseId);
    expect(answer.payload.response_type).toBe("ephemeral");
    expect(answer.payload.replace_original).toBe(false);
    expect(textOf(answer.payload)).toContain("Only managers can approve or reject model changes.");
    expect((await proposalRow(proposal.id)).status).toBe("pending");
    expect((await activeModel(tdb.database.db)).version).toBe(1);
  });

  it("when a manager approves their own proposal, then it is refused", async () => {
    const proposal = await propose(TEST_MANAGER, { mql: "10", sql: "20" });
    // The proposer gets no buttons in their DM; the alert channel's copy has them.
    expect(withButtons(dms(TEST_MANAGER), proposal.id)).toBeUndefined();
    const message = await eventually(() =>
      withButtons(h.standin.messages(TEST_ALERT_CHANNEL), proposal.id),
    );
    const res = await click(TEST_MANAGER, PROPOSAL_APPROVE, message, proposal.id);
    const answer = await answerTo(h.standin, res.responseId);
    expect(textOf(answer.payload)).toContain(
      "You proposed this change, so another manager has to approve or reject it.",
    );
    expect((await proposalRow(proposal.id)).status).toBe("pending");
    const refused = await tdb.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "proposal.refused"));
    expect(refused).toMatchObject([{ actor: TEST_MANAGER, subject: `proposal:${proposal.id}` }]);
  });

  it("when a manager approves, then a new model version is active, leads move, and everyone sees it", async () => {
    const before = (await teamStats(tdb.database.db, NOW)).stages;
    const proposal = await propose(TEST_REP, { mql: "10", sql: "20" });
    const impact = proposal.impact as Impact;
    expect(impact.up).toBeGreaterThan(0);
    expect(impact.before).toEqual(before);
    const dm = await eventually(() => withButtons(dms(TEST_MANAGER), proposal.id));
    const updated = callAfter(
      () => click(TEST_MANAGER, PROPOSAL_APPROVE, dm, proposal.id),
      (c) =>
        c.method === "chat.postMessage" &&
        c.params.channel === TEST_ALERT_CHANNEL &&
        textOf(c.params.blocks).includes("is active"),
    );
    const announcement = await updated;
    expect(textOf(announcement.params.blocks)).toContain("Scoring model v2 is active");
    expect(textOf(announcement.params.blocks)).toContain(
      `<@${TEST_MANAGER}> approved change #${proposal.id}`,
    );

    const active = await activeModel(tdb.database.db);
    expect(active.version).toBe(2);
    expect(active.model.thresholds).toEqual({ mql: 10, sql: 20, hysteresis: 5 });
    const after = (await teamStats(tdb.database.db, NOW)).stages;
    expect(after).not.toEqual(before);
    // The preview promised exactly what the rescore did.
    expect(after).toEqual(impact.after);

    // Every message of the proposal now says who approved it, in place.
    const row = await proposalRow(proposal.id);
    expect(row).toMatchObject({ status: "approved", decidedBy: TEST_MANAGER });
    await eventually(() => {
      const all = [
        ...dms(TEST_ADMIN),
        ...dms(TEST_MANAGER),
        ...h.standin.messages(TEST_ALERT_CHANNEL),
        ...dms(TEST_REP),
      ];
      const ours = all.filter((x) => x.metadata?.event_payload.proposal_id === proposal.id);
      return ours.length === 4 &&
        ours.every((x) => textOf(x.blocks).includes(`*Approved* by <@${TEST_MANAGER}>`) && x.edited)
        ? true
        : undefined;
    });
    expect(withButtons(dms(TEST_ADMIN), proposal.id)).toBeUndefined();
    // The proposer hears about it.
    await eventually(() =>
      dms(TEST_REP).find((x) => x.text.includes("approved your model change")),
    );
    const actions = (await tdb.database.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(["proposal.approved", "model.activated", "model.rescored"]),
    );
  });

  it("when the rescore after an approval fails, then the approval stands and the approver is told what to run", async () => {
    const proposal = await propose(TEST_REP, { mql: "10", sql: "20" });
    const dm = await eventually(() => withButtons(dms(TEST_MANAGER), proposal.id));
    const db = tdb.database.db;
    // Leads crossing the new thresholds record a transition: without the table, the rescore fails.
    await db.execute(sql`alter table stage_transitions rename to stage_transitions_away`);
    try {
      const res = await click(TEST_MANAGER, PROPOSAL_APPROVE, dm, proposal.id);
      const answer = await answerTo(h.standin, res.responseId);
      expect(textOf(answer.payload)).toContain(
        "Approved: model v2 is active, but rescoring the leads failed",
      );
    } finally {
      await db.execute(sql`alter table stage_transitions_away rename to stage_transitions`);
    }
    expect((await activeModel(db)).version).toBe(2);
    await eventually(() => {
      const msg = dms(TEST_MANAGER).find((x) => x.ts === dm.ts);
      return textOf(msg?.blocks).includes("*Approved* by") ? true : undefined;
    });
  });

  it("when another change was approved first, then approving a proposal on the old version is refused as stale", async () => {
    const first = await propose(TEST_REP, { mql: "10", sql: "20" });
    const second = await propose(TEST_REP, { hysteresis: "8" });
    const dmFirst = await eventually(() => withButtons(dms(TEST_MANAGER), first.id));
    await callAfter(
      () => click(TEST_MANAGER, PROPOSAL_APPROVE, dmFirst, first.id),
      (c) =>
        c.method === "chat.postMessage" &&
        c.params.channel === TEST_ALERT_CHANNEL &&
        textOf(c.params.blocks).includes("is active"),
    );
    const dmSecond = await eventually(() => withButtons(dms(TEST_ADMIN), second.id));
    const res = await click(TEST_ADMIN, PROPOSAL_APPROVE, dmSecond, second.id);
    const answer = await answerTo(h.standin, res.responseId);
    expect(textOf(answer.payload)).toContain(
      "The model changed since this was proposed (it was based on v1; v2 is active now).",
    );
    expect((await proposalRow(second.id)).status).toBe("pending");
    expect((await activeModel(tdb.database.db)).version).toBe(2);
  });

  it("when a manager rejects with a reason, then the proposal is rejected and the reason shown", async () => {
    const proposal = await propose(TEST_REP, { mql: "10", sql: "20" });
    const dm = await eventually(() => withButtons(dms(TEST_MANAGER), proposal.id));
    const opened = await callAfter(
      () => click(TEST_MANAGER, PROPOSAL_REJECT, dm, proposal.id),
      (c) => c.method === "views.open",
    );
    const modal = (opened.response?.view ?? {}) as {
      id: string;
      callback_id: string;
      private_metadata: string;
    };
    expect(modal.callback_id).toBe(PROPOSAL_DECISION_MODAL);
    const res = await h.driver.viewSubmission(
      TEST_MANAGER,
      { id: modal.id, callback_id: modal.callback_id, private_metadata: modal.private_metadata },
      {
        [PROPOSAL_REASON_BLOCK]: {
          [PROPOSAL_REASON_ACTION]: {
            type: "plain_text_input",
            value: "Wait for the Q3 pipeline review",
          },
        },
      },
    );
    expect(res.body).toBe("");
    const row = await proposalRow(proposal.id);
    expect(row).toMatchObject({
      status: "rejected",
      decidedBy: TEST_MANAGER,
      decisionNote: "Wait for the Q3 pipeline review",
    });
    await eventually(() => {
      const msg = dms(TEST_MANAGER).find((x) => x.ts === dm.ts);
      const status = (msg?.blocks as Block[] | undefined)?.find(
        (b) => b.block_id === PROPOSAL_STATUS_BLOCK,
      );
      return status?.text?.text.includes("Reason: Wait for the Q3 pipeline review")
        ? true
        : undefined;
    });
    expect((await activeModel(tdb.database.db)).version).toBe(1);
    // A rep cannot even open the reject form.
    const other = await propose(TEST_MANAGER, { hysteresis: "7" });
    const channelCopy = await eventually(() =>
      withButtons(h.standin.messages(TEST_ALERT_CHANNEL), other.id),
    );
    const refused = await click(TEST_REP, PROPOSAL_REJECT, channelCopy, other.id);
    expect(textOf((await answerTo(h.standin, refused.responseId)).payload)).toContain(
      "Only managers",
    );
  });

  it("when Approve is clicked twice at once, then one decision is recorded and the second click is told", async () => {
    const proposal = await propose(TEST_REP, { mql: "10", sql: "20" });
    const dm = await eventually(() => withButtons(dms(TEST_MANAGER), proposal.id));
    const [a, b] = await Promise.all([
      click(TEST_MANAGER, PROPOSAL_APPROVE, dm, proposal.id),
      click(TEST_MANAGER, PROPOSAL_APPROVE, dm, proposal.id),
    ]);
    const answered = await eventually(() => {
      const posts = [a, b].flatMap((r) => (r.responseId ? h.standin.responses(r.responseId) : []));
      return posts.length > 0 ? posts : undefined;
    });
    expect(answered).toHaveLength(1);
    expect(textOf(answered[0]?.payload)).toContain(
      `This proposal was already approved by <@${TEST_MANAGER}>.`,
    );
    const versions = await tdb.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "model.activated"));
    // One activation at start-up (initial model) and one for the approval.
    expect(versions).toHaveLength(2);
    expect((await activeModel(tdb.database.db)).version).toBe(2);
  });

  it("when /lead weights is edited and submitted, then the preview and the proposal name the rule", async () => {
    const m = await open(TEST_REP, "weights");
    expect(m.callbackId).toBe(TUNING_WEIGHTS_MODAL);
    const block = weightBlockId("title_vp");
    await edit(TEST_REP, m, { block, action: TUNING_WEIGHT_ACTION }, { [block]: "40" });
    expect(previewText(m.viewId)).toContain(
      "• VP or head of department (title_vp): +18 → +40 points",
    );
    const zero = await submit(TEST_REP, m, { [block]: "0" });
    expect(zero.json).toEqual({
      response_action: "errors",
      errors: { [block]: expect.stringContaining("Points cannot be 0") },
    });
    const res = await submit(TEST_REP, m, { [block]: "40" });
    expect(res.body).toBe("");
    const proposal = await eventually(async () => (await pendingProposals(tdb.database.db))[0]);
    expect(proposal).toMatchObject({
      kind: "weights",
      diff: ["VP or head of department (title_vp): +18 → +40 points"],
    });
    await eventually(() => withButtons(dms(TEST_MANAGER), proposal.id));
  });

  it("when the model has more rules than a modal shows, then the picked rules get fields and can be proposed", async () => {
    const db = tdb.database.db;
    const base = (await activeModel(db)).model;
    const extra = Array.from({ length: MAX_RULE_INPUTS }, (_, i) => ({
      id: `country_extra_${i}`,
      label: `Country ${i}`,
      points: 2,
      when: [{ field: "country", op: "equals" as const, value: `X${i}` }],
    }));
    await insertModelVersion(
      db,
      { ...base, fit: { ...base.fit, rules: [...base.fit.rules, ...extra] } },
      { by: "system" },
    );
    const m = await open(TEST_REP, "weights");
    expect(blocksOfView(m.viewId).some((b) => b.block_id === TUNING_RULE_PICKER_BLOCK)).toBe(true);
    expect(blocksOfView(m.viewId).filter((b) => b.block_id?.startsWith("tuning_w:"))).toHaveLength(
      0,
    );
    const picked = {
      [TUNING_RULE_PICKER_BLOCK]: {
        [TUNING_RULE_PICKER_ACTION]: {
          type: "multi_static_select",
          selected_options: [{ value: "title_vp" }, { value: "country_extra_3" }],
        },
      },
    };
    const view = {
      id: m.viewId,
      callback_id: m.callbackId,
      private_metadata: m.metadata,
      hash: storedView(m.viewId).hash,
      state: { values: { ...stateOf(m.viewId), ...picked } },
    };
    await callAfter(
      () =>
        h.driver.blockAction(TEST_REP, {
          actionId: TUNING_RULE_PICKER_ACTION,
          blockId: TUNING_RULE_PICKER_BLOCK,
          elementType: "multi_static_select",
          view,
        }),
      (c) => c.method === "views.update" && c.params.view_id === m.viewId,
    );
    const fields = blocksOfView(m.viewId).filter((b) => b.block_id?.startsWith("tuning_w:"));
    expect(fields.map((b) => b.block_id)).toEqual([
      weightBlockId("title_vp"),
      weightBlockId("country_extra_3"),
    ]);
    const res = await h.driver.viewSubmission(
      TEST_REP,
      { id: m.viewId, callback_id: m.callbackId, private_metadata: m.metadata },
      { ...stateOf(m.viewId, { [weightBlockId("country_extra_3")]: "7" }), ...picked },
    );
    expect(res.body).toBe("");
    const proposal = await eventually(async () => (await pendingProposals(db))[0]);
    expect(proposal).toMatchObject({
      kind: "weights",
      baseVersion: 2,
      diff: ["Country 3 (country_extra_3): +2 → +7 points"],
    });
  });

  it("when the model changed while a modal was open, then its submission is refused on the form", async () => {
    const m = await open(TEST_REP, "thresholds");
    const other = await propose(TEST_REP, { hysteresis: "8" });
    const dm = await eventually(() => withButtons(dms(TEST_MANAGER), other.id));
    await callAfter(
      () => click(TEST_MANAGER, PROPOSAL_APPROVE, dm, other.id),
      (c) =>
        c.method === "chat.postMessage" &&
        c.params.channel === TEST_ALERT_CHANNEL &&
        textOf(c.params.blocks).includes("is active"),
    );
    const res = await submit(TEST_REP, m, { [TUNING_MQL_BLOCK]: "45" });
    expect(res.json).toEqual({
      response_action: "errors",
      errors: {
        [TUNING_MQL_BLOCK]: expect.stringContaining("The scoring model changed (v1 → v2)"),
      },
    });
  });
});

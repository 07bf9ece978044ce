import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureModel } from "../../src/services/models.js";
import {
  encodePick,
  RULE_FIELD_BLOCKS,
  RULE_INPUT_ACTION,
  RULE_PICK_ACTION,
  RULES_SETTINGS_MODAL,
  type RulePick,
  ruleBlockId,
  SETTINGS_BLOCKS,
} from "../../src/slack/blocks/rules.js";
import { TUNING_PREVIEW_BLOCK } from "../../src/slack/ids.js";
import type { ViewStateValues } from "../../src/slack/local/driver.js";
import { type TestDatabase, testDatabases, truncateAll, withDatabase } from "../support/db.js";
import { eventually, type SlackHarness, startSlackHarness, TEST_REP } from "../support/slack.js";

/** `/lead rules` over signed requests: the modal's fields become a whole-model proposal. */

interface Block {
  type: string;
  block_id?: string;
  text?: { text: string };
}

interface OpenModal {
  viewId: string;
  callbackId: string;
  metadata: string;
}

describe.each(testDatabases())("rules modal from Slack on $name", (config) => {
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
    const r = await h.app.services.upsertLeads([
      { email: "ann@acme.com", title: "VP Sales", company: "Acme", employees: 500 },
      { email: "bob@beta.io", title: "Engineer", company: "Beta", employees: 20 },
    ]);
    expect(r.errors).toEqual([]);
  });

  function blocksOf(viewId: string): Block[] {
    return (h.standin.views.get(viewId)?.view.blocks ?? []) as Block[];
  }

  async function open(text = "rules"): Promise<OpenModal> {
    const res = await h.driver.command(TEST_REP, text);
    expect(res.status).toBe(200);
    const opened = await eventually(() =>
      h.standin
        .callsTo("views.open")
        .find((c) => c.params.trigger_id === res.triggerId && c.response),
    );
    const viewId = String((opened.response?.view as { id?: string } | undefined)?.id);
    // The modal measures the current model first; edits come after, as a person's would.
    await eventually(() =>
      ((h.standin.views.get(viewId)?.view.blocks ?? []) as Block[]).some(
        (b) => b.block_id === TUNING_PREVIEW_BLOCK && !/Measuring/.test(b.text?.text ?? ""),
      ) || text.includes("settings")
        ? true
        : undefined,
    );
    const view = h.standin.views.get(viewId)?.view as {
      callback_id: string;
      private_metadata: string;
    };
    return { viewId, callbackId: view.callback_id, metadata: view.private_metadata };
  }

  /** Picks a rule in the modal; resolves once the modal shows its fields. */
  async function pick(m: OpenModal, p: RulePick): Promise<OpenModal> {
    await h.driver.blockAction(TEST_REP, {
      actionId: RULE_PICK_ACTION,
      elementType: "static_select",
      selectedOption: { text: { type: "plain_text", text: "rule" }, value: encodePick(p) },
      view: {
        id: m.viewId,
        callback_id: m.callbackId,
        private_metadata: m.metadata,
        state: { values: {} },
      },
    });
    const view = await eventually(() => {
      const v = h.standin.views.get(m.viewId)?.view as
        | { private_metadata: string; blocks: Block[] }
        | undefined;
      return v?.blocks.some((b) => b.block_id === ruleBlockId(RULE_FIELD_BLOCKS.id, p))
        ? v
        : undefined;
    });
    return { ...m, metadata: view.private_metadata };
  }

  function values(p: RulePick, fields: Record<string, string>): ViewStateValues {
    return Object.fromEntries(
      Object.entries(fields).map(([base, value]) => [
        base === RULE_FIELD_BLOCKS.note ? base : ruleBlockId(base, p),
        base === RULE_FIELD_BLOCKS.remove
          ? {
              [RULE_INPUT_ACTION]: {
                type: "checkboxes",
                selected_options: value ? [{ value }] : [],
              },
            }
          : { [RULE_INPUT_ACTION]: { type: "plain_text_input", value } },
      ]),
    );
  }

  async function submit(m: OpenModal, state: ViewStateValues) {
    const res = await h.driver.viewSubmission(
      TEST_REP,
      { id: m.viewId, callback_id: m.callbackId, private_metadata: m.metadata },
      state,
    );
    expect(res.status).toBe(200);
    return res;
  }

  it("when a new fit rule is submitted, then it becomes a proposal whose diff names the rule", async () => {
    const m = await open();
    await eventually(() =>
      blocksOf(m.viewId).some(
        (b) => b.block_id === TUNING_PREVIEW_BLOCK && !/Measuring/i.test(b.text?.text ?? ""),
      )
        ? true
        : undefined,
    );
    const p: RulePick = { kind: "new", group: "fit" };
    const res = await submit(
      m,
      values(p, {
        [RULE_FIELD_BLOCKS.id]: "integrations_page_company",
        [RULE_FIELD_BLOCKS.label]: "Acme-sized company",
        [RULE_FIELD_BLOCKS.points]: "15",
        [RULE_FIELD_BLOCKS.when]: "company oneOf Acme, Globex\nemployees range 100..5000",
        [RULE_FIELD_BLOCKS.note]: "bigger deals",
      }),
    );
    expect(res.json ?? null).toBeNull();
    const [proposal] = await eventually(async () => {
      const pending = await h.app.services.proposals.pending();
      return pending.length > 0 ? pending : undefined;
    });
    expect(proposal?.proposedBy).toBe(TEST_REP);
    expect(proposal?.diff).toEqual([
      'New fit rule Acme-sized company (integrations_page_company): +15 points, when company is one of "Acme", "Globex" and employees 100–5000',
    ]);
    const rule = proposal?.definition.fit.rules.find((r) => r.id === "integrations_page_company");
    expect(rule?.when).toEqual([
      { field: "company", op: "oneOf", values: ["Acme", "Globex"] },
      { field: "employees", op: "range", min: 100, max: 5000 },
    ]);
  });

  it("when Enter is pressed in a field, then the preview shows the rule's diff and what moves", async () => {
    const m = await open();
    const previewText = () =>
      blocksOf(m.viewId).find((b) => b.block_id === TUNING_PREVIEW_BLOCK)?.text?.text ?? "";
    await eventually(() => (previewText().includes("Nothing changed yet") ? true : undefined));
    const p: RulePick = { kind: "new", group: "fit" };
    await h.driver.blockAction(TEST_REP, {
      actionId: RULE_INPUT_ACTION,
      blockId: ruleBlockId(RULE_FIELD_BLOCKS.points, p),
      elementType: "plain_text_input",
      view: {
        id: m.viewId,
        callback_id: m.callbackId,
        private_metadata: m.metadata,
        state: {
          values: values(p, {
            [RULE_FIELD_BLOCKS.id]: "acme_accounts",
            [RULE_FIELD_BLOCKS.label]: "Acme accounts",
            [RULE_FIELD_BLOCKS.points]: "200",
            [RULE_FIELD_BLOCKS.when]: "company equals Acme",
          }),
        },
      },
    });
    const text = await eventually(() =>
      previewText().includes("acme_accounts") ? previewText() : undefined,
    );
    expect(text).toContain("New fit rule Acme accounts (acme_accounts): +200 points");
    expect(text).toMatch(/\*1 lead\* of 2 would change stage: 1 up, 0 down/);
  });

  it("when an existing rule is removed, then the proposal removes only that rule", async () => {
    const opened = await open();
    const p: RulePick = { kind: "existing", group: "fit", id: "title_vp" };
    const m = await pick(opened, p);
    const res = await submit(m, values(p, { [RULE_FIELD_BLOCKS.remove]: "remove" }));
    expect(res.json ?? null).toBeNull();
    const [proposal] = await eventually(async () => {
      const pending = await h.app.services.proposals.pending();
      return pending.length > 0 ? pending : undefined;
    });
    const diff = proposal?.diff as string[];
    expect(diff).toHaveLength(1);
    expect(diff[0]).toMatch(/^Removed fit rule .* \(title_vp\)$/);
    expect(proposal?.definition.fit.rules.map((r) => r.id)).not.toContain("title_vp");
  });

  it("when a value is invalid, then its error shows on its block and nothing is proposed", async () => {
    const m = await open();
    const p: RulePick = { kind: "new", group: "fit" };
    const res = await submit(
      m,
      values(p, {
        [RULE_FIELD_BLOCKS.id]: "Bad Id",
        [RULE_FIELD_BLOCKS.label]: "x",
        [RULE_FIELD_BLOCKS.points]: "ten",
        [RULE_FIELD_BLOCKS.when]: "title resembles cto",
      }),
    );
    expect(res.json).toEqual({
      response_action: "errors",
      errors: {
        [ruleBlockId(RULE_FIELD_BLOCKS.points, p)]: "Points are a number, e.g. 10 or -20.",
        [ruleBlockId(RULE_FIELD_BLOCKS.when, p)]: expect.stringContaining(
          '"resembles" is not an op',
        ),
      },
    });
    const schema = await submit(
      m,
      values(p, {
        [RULE_FIELD_BLOCKS.id]: "Bad Id",
        [RULE_FIELD_BLOCKS.label]: "x",
        [RULE_FIELD_BLOCKS.points]: "10",
        [RULE_FIELD_BLOCKS.when]: "title hasWord cto",
      }),
    );
    expect(schema.json).toEqual({
      response_action: "errors",
      errors: { [ruleBlockId(RULE_FIELD_BLOCKS.id, p)]: expect.stringContaining("lowercase") },
    });
    expect(await h.app.services.proposals.pending()).toEqual([]);
  });

  it("when the settings form orders grades wrongly, then the error sits on the grades", async () => {
    const m = await open("rules settings");
    expect(m.callbackId).toBe(RULES_SETTINGS_MODAL);
    const field = (block: string, value: string) => ({
      [block]: { [RULE_INPUT_ACTION]: { type: "plain_text_input", value } },
    });
    const base = {
      ...field(SETTINGS_BLOCKS.fitCap, "60"),
      ...field(SETTINGS_BLOCKS.engagementCap, "70"),
      ...field(SETTINGS_BLOCKS.gradeA, "10"),
      ...field(SETTINGS_BLOCKS.gradeB, "20"),
      ...field(SETTINGS_BLOCKS.gradeC, "5"),
      ...field(SETTINGS_BLOCKS.level1, "30"),
      ...field(SETTINGS_BLOCKS.level2, "15"),
      ...field(SETTINGS_BLOCKS.level3, "5"),
    };
    const bad = await submit(m, base);
    expect(bad.json).toEqual({
      response_action: "errors",
      errors: {
        [SETTINGS_BLOCKS.gradeA]:
          "Grade B must start below grade A (10): bands go from best to worst.",
      },
    });
    const good = await submit(m, { ...base, ...field(SETTINGS_BLOCKS.gradeA, "30") });
    expect(good.json ?? null).toBeNull();
    const [proposal] = await eventually(async () => {
      const pending = await h.app.services.proposals.pending();
      return pending.length > 0 ? pending : undefined;
    });
    expect(proposal?.definition.fit.cap).toBe(60);
    expect(proposal?.definition.grades).toEqual({ A: 30, B: 20, C: 5 });
  });
});

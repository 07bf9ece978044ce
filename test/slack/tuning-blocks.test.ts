import { describe, expect, it } from "vitest";
import type { Impact } from "../../src/core/impact.js";
import type { ScoringModel } from "../../src/core/model.js";
import { loadModelFile } from "../../src/services/models.js";
import {
  buildModelActivated,
  buildPreviewBlocks,
  buildProposalDecided,
  buildProposalMessage,
  buildProposalSubmitted,
  buildRejectModal,
  buildReviewModal,
  buildThresholdsModal,
  buildWeightsModal,
  decisionMetaSchema,
  MAX_RULE_INPUTS,
  type PreviewState,
  type ProposalView,
  ruleWeights,
} from "../../src/slack/blocks/tuning/index.js";
import {
  PROPOSAL_ACTIONS_BLOCK,
  PROPOSAL_COMMENT_BLOCK,
  PROPOSAL_DECISION_MODAL,
  PROPOSAL_DIFF_BLOCK,
  PROPOSAL_IMPACT_BLOCK,
  PROPOSAL_OUTCOMES_BLOCK,
  PROPOSAL_REASON_BLOCK,
  PROPOSAL_REJECT,
  PROPOSAL_REVIEW,
  PROPOSAL_REVIEW_MODAL,
  PROPOSAL_STATUS_BLOCK,
  PROPOSAL_WARNING_BLOCK,
  TUNING_HYSTERESIS_BLOCK,
  TUNING_MQL_BLOCK,
  TUNING_NOTE_BLOCK,
  TUNING_PREVIEW_BLOCK,
  TUNING_PREVIEW_DETAIL_BLOCK,
  TUNING_PREVIEW_OUTCOMES_BLOCK,
  TUNING_RULE_PICKER_BLOCK,
  TUNING_SQL_BLOCK,
  TUNING_THRESHOLDS_MODAL,
  TUNING_WEIGHT_BLOCK_PREFIX,
  TUNING_WEIGHTS_MODAL,
} from "../../src/slack/ids.js";
import { decodeTuningMetadata, encodeTuningMetadata } from "../../src/slack/tuning/state.js";

interface AnyBlock {
  type: string;
  block_id?: string;
  dispatch_action?: boolean;
  optional?: boolean;
  label?: { text: string };
  hint?: { text: string };
  text?: { type: string; text: string };
  fields?: { text: string }[];
  elements?: {
    type: string;
    action_id?: string;
    value?: string;
    text?: string | { text: string };
  }[];
  element?: {
    type: string;
    action_id?: string;
    initial_value?: string;
    min_value?: string;
    max_value?: string;
    max_selected_items?: number;
    initial_options?: { value: string }[];
    option_groups?: {
      label: { text: string };
      options: { text: { text: string }; value: string }[];
    }[];
  };
}

const model: ScoringModel = loadModelFile();
const meta = encodeTuningMetadata({ kind: "thresholds", version: 3 });

function impact(over: Partial<Impact> = {}): Impact {
  return {
    leads: 200,
    before: { lead: 150, mql: 40, sql: 10 },
    after: { lead: 140, mql: 47, sql: 13 },
    moves: [
      { from: "lead", to: "mql", count: 10 },
      { from: "mql", to: "sql", count: 3 },
    ],
    up: 13,
    down: 0,
    labelled: { won: 4, notWon: 3 },
    ...over,
  };
}

const withOutcomes = impact({
  labelled: { won: 12, notWon: 18 },
  outcomes: {
    before: { wonQualified: 6, notWonQualified: 9, winRecall: 0.5, precision: 0.4 },
    after: { wonQualified: 9, notWonQualified: 10, winRecall: 0.75, precision: 9 / 19 },
  },
});

function proposal(over: Partial<ProposalView> = {}): ProposalView {
  return {
    id: 12,
    kind: "thresholds",
    proposedBy: "U0REP00001",
    baseVersion: 3,
    changes: ["MQL threshold: 50 → 45"],
    impact: impact(),
    note: "Too few MQLs this quarter",
    createdAt: new Date("2025-03-01T10:00:00Z"),
    ...over,
  };
}

function blocks(v: { blocks: unknown[] }): AnyBlock[] {
  return v.blocks as AnyBlock[];
}

function byId(v: { blocks: unknown[] }, id: string): AnyBlock | undefined {
  return blocks(v).find((b) => b.block_id === id);
}

/** Every text a person reads, with the limit Slack puts on it. */
function limitsOf(v: { blocks: unknown[] }): { text: string; max: number }[] {
  const out: { text: string; max: number }[] = [];
  for (const b of blocks(v)) {
    if (b.text) out.push({ text: b.text.text, max: b.type === "header" ? 150 : 3000 });
    for (const f of b.fields ?? []) out.push({ text: f.text, max: 2000 });
    if (b.label) out.push({ text: b.label.text, max: 2000 });
    if (b.hint) out.push({ text: b.hint.text, max: 2000 });
    for (const g of b.element?.option_groups ?? []) {
      out.push({ text: g.label.text, max: 75 });
      for (const o of g.options) out.push({ text: o.text.text, max: 75 });
    }
    for (const e of b.elements ?? []) {
      if (typeof e.text === "string") out.push({ text: e.text, max: 3000 });
      else if (e.text) out.push({ text: e.text.text, max: 75 });
    }
  }
  return out;
}

function expectWithinLimits(v: { blocks: unknown[] }, maxBlocks: number): void {
  expect(v.blocks.length).toBeLessThanOrEqual(maxBlocks);
  for (const { text, max } of limitsOf(v)) expect(text.length).toBeLessThanOrEqual(max);
  const ids = blocks(v).flatMap((b) => (b.block_id ? [b.block_id] : []));
  expect(new Set(ids).size).toBe(ids.length);
}

/** A model with `n` fit rules and `n` engagement rules, labels at the longest allowed. */
function manyRules(n: number): ScoringModel {
  return {
    ...model,
    fit: {
      ...model.fit,
      rules: Array.from({ length: n }, (_, i) => ({
        id: `fit_rule_${i}`,
        label: `${"Fit rule with a long descriptive label ".repeat(2).slice(0, 70)} ${i}`,
        points: (i % 20) + 1,
        when: [{ field: "title", op: "containsAny" as const, values: ["x"] }],
      })),
    },
    engagement: {
      ...model.engagement,
      rules: Array.from({ length: n }, (_, i) => ({
        id: `eng_rule_${i}`,
        label: `Engagement rule ${i}`,
        points: (i % 10) + 1,
        event: "page_view",
        where: [],
        maxCount: 5,
        halfLifeDays: 30,
      })),
    },
  };
}

describe("thresholds modal", () => {
  it("when opened, then it shows the three thresholds as number fields that refresh the preview", () => {
    const v = buildThresholdsModal({
      model: { version: 3, name: "Default B2B model" },
      current: { mql: 50, sql: 80, hysteresis: 5 },
      preview: { kind: "measuring" },
      metadata: meta,
    });
    expect(v.callback_id).toBe(TUNING_THRESHOLDS_MODAL);
    expect(v.title.text.length).toBeLessThanOrEqual(24);
    expect(v.submit?.text).toBe("Propose change");
    expect(decodeTuningMetadata(v.private_metadata)).toEqual({ kind: "thresholds", version: 3 });
    const fields = [TUNING_MQL_BLOCK, TUNING_SQL_BLOCK, TUNING_HYSTERESIS_BLOCK].map((id) =>
      byId(v, id),
    );
    expect(
      fields.map((b) => [b?.type, b?.dispatch_action, b?.element?.type, b?.element?.initial_value]),
    ).toEqual([
      ["input", true, "number_input", "50"],
      ["input", true, "number_input", "80"],
      ["input", true, "number_input", "5"],
    ]);
    expect(byId(v, TUNING_HYSTERESIS_BLOCK)?.element?.min_value).toBe("0");
    expect(byId(v, TUNING_NOTE_BLOCK)?.optional).toBe(true);
    expect(byId(v, TUNING_PREVIEW_BLOCK)?.text?.text).toContain("Measuring");
    expectWithinLimits(v, 100);
  });

  it("when rebuilt after an edit, then the fields keep what the person typed", () => {
    const v = buildThresholdsModal({
      model: { version: 3, name: "m" },
      current: { mql: 50, sql: 80, hysteresis: 5 },
      values: { mql: "45", sql: "" },
      preview: { kind: "change", changes: ["MQL threshold: 50 → 45"], impact: impact() },
      metadata: meta,
    });
    expect(byId(v, TUNING_MQL_BLOCK)?.element?.initial_value).toBe("45");
    // An emptied field stays empty rather than snapping back.
    expect(byId(v, TUNING_SQL_BLOCK)?.element?.initial_value).toBeUndefined();
    expect(byId(v, TUNING_HYSTERESIS_BLOCK)?.element?.initial_value).toBe("5");
  });
});

describe("impact preview", () => {
  const states: PreviewState[] = [
    { kind: "measuring" },
    { kind: "baseline", impact: impact() },
    { kind: "change", changes: ["MQL threshold: 50 → 45"], impact: impact() },
    { kind: "invalid", problems: ["SQL threshold: must be above the MQL threshold"] },
    { kind: "failed", message: "The model changed" },
  ];

  it.each(states)("when $kind, then it is three blocks with the same ids", (state) => {
    expect(buildPreviewBlocks(state).map((b) => b.block_id)).toEqual([
      TUNING_PREVIEW_BLOCK,
      TUNING_PREVIEW_DETAIL_BLOCK,
      TUNING_PREVIEW_OUTCOMES_BLOCK,
    ]);
  });

  it("when a change moves leads, then it lists the change, the moves and the stage counts", () => {
    const [summary, detail, outcomes] = buildPreviewBlocks(states[2] as PreviewState) as AnyBlock[];
    expect(summary?.text?.text).toBe(
      "*Impact of*\n• MQL threshold: 50 → 45\n\n*13 leads* of 200 would change stage: 13 up, 0 down.\n• Lead → MQL: 10\n• MQL → SQL: 3",
    );
    expect(detail?.fields?.map((f) => f.text)).toEqual([
      "*Now*\nLead 150 · MQL 40 · SQL 10",
      "*After*\nLead 140 · MQL 47 · SQL 13",
    ]);
    expect(outcomes?.elements?.[0]?.text).toBe(
      "Checked against recorded outcomes once there are 20 (7 so far).",
    );
  });

  it("when enough outcomes are recorded, then it compares the agreement before and after", () => {
    const [, , outcomes] = buildPreviewBlocks({
      kind: "change",
      changes: ["x"],
      impact: withOutcomes,
    }) as { elements?: { text: string }[] }[];
    expect(outcomes?.elements?.[0]?.text).toBe(
      "Against 30 recorded outcomes (12 won):\nnow 50% of won leads qualified, 40% of qualified outcomes won;\nafter 75% of won leads qualified, 47% of qualified outcomes won.",
    );
  });

  it("when nothing changed, then it shows how the current model stands", () => {
    const [summary, detail] = buildPreviewBlocks({
      kind: "baseline",
      impact: withOutcomes,
    }) as AnyBlock[];
    expect(summary?.text?.text).toContain(
      "Nothing changed yet. The current model scores 200 leads: Lead 150 · MQL 40 · SQL 10.",
    );
    expect(detail?.text?.text).toBe(
      "Against 30 recorded outcomes (12 won): 50% of won leads qualified, 40% of qualified outcomes won.",
    );
  });

  it("when no lead would move, then it says so in one sentence", () => {
    const [summary] = buildPreviewBlocks({
      kind: "change",
      changes: ["x"],
      impact: impact({ moves: [], up: 0, down: 0, after: impact().before }),
    }) as AnyBlock[];
    expect(summary?.text?.text).toContain("No lead of the 200 leads scored would change stage.");
  });

  it("when the change lists hundreds of lines, then the text stays under 3000 characters", () => {
    const changes = Array.from({ length: 500 }, (_, i) => `Rule ${i} (rule_${i}): +5 → +6 points`);
    const [summary] = buildPreviewBlocks({
      kind: "change",
      changes,
      impact: impact(),
    }) as AnyBlock[];
    expect(summary?.text?.text.length).toBeLessThanOrEqual(3000);
  });
});

describe("weights modal", () => {
  it("when the model fits, then every rule gets a field, grouped into fit and engagement", () => {
    const rules = ruleWeights(model);
    const v = buildWeightsModal({
      model: { version: 1, name: model.name },
      rules,
      preview: { kind: "measuring" },
      metadata: encodeTuningMetadata({ kind: "weights", version: 1 }),
    });
    expect(v.callback_id).toBe(TUNING_WEIGHTS_MODAL);
    const inputs = blocks(v).filter((b) => b.block_id?.startsWith(TUNING_WEIGHT_BLOCK_PREFIX));
    expect(inputs).toHaveLength(model.fit.rules.length + model.engagement.rules.length);
    expect(
      inputs.every((b) => b.dispatch_action === true && b.element?.type === "number_input"),
    ).toBe(true);
    const vp = byId(v, `${TUNING_WEIGHT_BLOCK_PREFIX}title_vp`);
    expect(vp?.element?.initial_value).toBe("18");
    expect([vp?.element?.min_value, vp?.element?.max_value]).toEqual(["-1000", "1000"]);
    expect(vp?.hint?.text).toContain("title_vp: now 18 points");
    const headers = blocks(v)
      .filter((b) => b.type === "header")
      .map((b) => b.text?.text);
    expect(headers).toEqual(["Fit: who the lead is", "Engagement: what the lead does"]);
    // Fit fields come before the engagement header, engagement ones after.
    const order = blocks(v).map((b) => b.block_id ?? b.text?.text ?? "");
    expect(order.indexOf(`${TUNING_WEIGHT_BLOCK_PREFIX}title_vp`)).toBeLessThan(
      order.indexOf("Engagement: what the lead does"),
    );
    expect(order.indexOf(`${TUNING_WEIGHT_BLOCK_PREFIX}demo_request`)).toBeGreaterThan(
      order.indexOf("Engagement: what the lead does"),
    );
    expect(byId(v, TUNING_RULE_PICKER_BLOCK)).toBeUndefined();
    expectWithinLimits(v, 100);
  });

  it("when the model has more rules than fit, then a picker chooses which to edit", () => {
    const big = manyRules(150);
    const rules = ruleWeights(big);
    const v = buildWeightsModal({
      model: { version: 1, name: "Big" },
      rules,
      preview: { kind: "measuring" },
      metadata: encodeTuningMetadata({ kind: "weights", version: 1 }),
    });
    const picker = byId(v, TUNING_RULE_PICKER_BLOCK);
    expect(picker?.dispatch_action).toBe(true);
    expect(picker?.element?.type).toBe("multi_static_select");
    expect(picker?.element?.max_selected_items).toBe(MAX_RULE_INPUTS);
    const groups = picker?.element?.option_groups ?? [];
    expect(groups.map((g) => [g.label.text, g.options.length])).toEqual([
      ["Fit (1–100)", 100],
      ["Fit (101–150)", 50],
      ["Engagement (1–100)", 100],
      ["Engagement (101–150)", 50],
    ]);
    expect(
      blocks(v).filter((b) => b.block_id?.startsWith(TUNING_WEIGHT_BLOCK_PREFIX)),
    ).toHaveLength(0);
    expectWithinLimits(v, 100);
  });

  it("when the most rules allowed are picked, then the modal still fits in 100 blocks", () => {
    const big = manyRules(150);
    const rules = ruleWeights(big);
    const picked = [...rules.slice(0, 40), ...rules.slice(160, 200)].map((r) => r.id);
    const v = buildWeightsModal({
      model: { version: 1, name: "Big" },
      rules,
      picked,
      values: { fit_rule_0: "7" },
      note: "n".repeat(5000),
      preview: {
        kind: "change",
        changes: picked.map((id) => `${id}: +1 → +2 points`),
        impact: withOutcomes,
      },
      metadata: encodeTuningMetadata({ kind: "weights", version: 1 }),
    });
    const inputs = blocks(v).filter((b) => b.block_id?.startsWith(TUNING_WEIGHT_BLOCK_PREFIX));
    expect(inputs).toHaveLength(MAX_RULE_INPUTS);
    expect(byId(v, `${TUNING_WEIGHT_BLOCK_PREFIX}fit_rule_0`)?.element?.initial_value).toBe("7");
    expect(byId(v, TUNING_RULE_PICKER_BLOCK)?.element?.initial_options).toHaveLength(
      MAX_RULE_INPUTS,
    );
    expectWithinLimits(v, 100);
  });
});

describe("proposal messages", () => {
  it("when posted to a manager, then it shows the diff, the impact and Review / Reject", () => {
    const m = buildProposalMessage(proposal());
    expect(m.text).toBe(
      "Model change #12 by U0REP00001: MQL threshold: 50 → 45 (waiting for approval)",
    );
    expect(blocks(m)[0]?.text?.text).toBe("Model change #12: thresholds");
    expect(blocks(m)[1]?.text?.text).toBe(
      "<@U0REP00001> proposes a change to the thresholds (based on model v3).\n> Too few MQLs this quarter",
    );
    expect(byId(m, PROPOSAL_DIFF_BLOCK)?.text?.text).toBe("*Changes*\n• MQL threshold: 50 → 45");
    expect(byId(m, PROPOSAL_IMPACT_BLOCK)?.text?.text).toContain(
      "*13 leads* of 200 would change stage",
    );
    expect(JSON.stringify(byId(m, PROPOSAL_OUTCOMES_BLOCK))).toContain("7 so far");
    const actions = byId(m, PROPOSAL_ACTIONS_BLOCK);
    expect(actions?.elements?.map((e) => [e.action_id, e.text, e.value])).toEqual([
      [PROPOSAL_REVIEW, expect.objectContaining({ text: "Review" }), "12"],
      [PROPOSAL_REJECT, expect.objectContaining({ text: "Reject" }), "12"],
    ]);
    expectWithinLimits(m, 50);
  });

  it("when the diff is very long, then it is cut with a count and stays within 50 blocks", () => {
    const changes = Array.from(
      { length: 2000 },
      (_, i) => `Rule ${i} (rule_${i}): +${i} → +${i + 1} points`,
    );
    const m = buildProposalMessage(proposal({ kind: "weights", changes }));
    expectWithinLimits(m, 50);
    const all = JSON.stringify(m.blocks);
    expect(all).toMatch(/…and \d+ more changes\./);
    expect(m.text.length).toBeLessThanOrEqual(3000);
  });

  it("when the note holds mrkdwn, then it is escaped and cannot ping the channel", () => {
    const m = buildProposalMessage(proposal({ note: "<!channel> please\nsecond line" }));
    expect(blocks(m)[1]?.text?.text).toContain("> &lt;!channel&gt; please\n> second line");
  });

  it("when submitted, then the proposer's copy names the managers and has no buttons", () => {
    const m = buildProposalSubmitted(proposal(), ["U0MANAGER1", "U0ADMIN001"]);
    expect(byId(m, PROPOSAL_ACTIONS_BLOCK)).toBeUndefined();
    expect(byId(m, PROPOSAL_STATUS_BLOCK)?.text?.text).toContain(
      "Sent for approval to <@U0MANAGER1>, <@U0ADMIN001>.",
    );
    const none = buildProposalSubmitted(proposal(), []);
    expect(byId(none, PROPOSAL_STATUS_BLOCK)?.text?.text).toContain("/lead role @user manager");
  });

  it("when approved, then the buttons give way to who approved and the new version", () => {
    const m = buildProposalDecided(proposal(), {
      status: "approved",
      by: "U0MANAGER1",
      at: new Date("2025-03-02T09:30:00Z"),
      version: 4,
    });
    expect(byId(m, PROPOSAL_ACTIONS_BLOCK)).toBeUndefined();
    const status = byId(m, PROPOSAL_STATUS_BLOCK)?.text?.text ?? "";
    expect(status).toMatch(/^:white_check_mark: \*Approved\* by <@U0MANAGER1> <!date\^\d+\^/);
    expect(status).toContain("model v4 is active.");
    expect(m.text).toContain("(approved by U0MANAGER1)");
  });

  it("when rejected with a reason, then the reason is shown, escaped", () => {
    const m = buildProposalDecided(proposal(), {
      status: "rejected",
      by: "U0MANAGER1",
      at: new Date(),
      reason: "Wait for Q3 <data>",
    });
    expect(byId(m, PROPOSAL_STATUS_BLOCK)?.text?.text).toContain("*Rejected* by <@U0MANAGER1>");
    expect(byId(m, PROPOSAL_STATUS_BLOCK)?.text?.text).toContain(
      "Reason: Wait for Q3 &lt;data&gt;",
    );
  });

  it("when a model version is activated, then the announcement names both people and the rescore", () => {
    const m = buildModelActivated({
      version: 4,
      proposal: proposal(),
      approvedBy: "U0MANAGER1",
      rescore: { scored: 200, changed: 31, transitions: 13 },
    });
    expect(blocks(m)[0]?.text?.text).toBe("Scoring model v4 is active");
    expect(blocks(m)[1]?.text?.text).toBe(
      "<@U0MANAGER1> approved change #12 to the thresholds, proposed by <@U0REP00001>.",
    );
    expect(byId(m, PROPOSAL_STATUS_BLOCK)?.text?.text).toBe(
      "Rescored 200 leads: 31 scores changed, 13 stage changes.",
    );
    expectWithinLimits(m, 50);
  });

  it("when rejecting, then the modal asks for an optional reason and carries the proposal", () => {
    const v = buildRejectModal(proposal(), { proposalId: 12, channel: "D0MANAGER1", ts: "1.2" });
    expect(v.callback_id).toBe(PROPOSAL_DECISION_MODAL);
    expect(v.title.text.length).toBeLessThanOrEqual(24);
    expect(decisionMetaSchema.parse(JSON.parse(v.private_metadata ?? ""))).toEqual({
      proposalId: 12,
      channel: "D0MANAGER1",
      ts: "1.2",
    });
    expect(byId(v, PROPOSAL_REASON_BLOCK)?.optional).toBe(true);
  });
});

describe("the review modal", () => {
  it("when a proposal is reviewed, then the modal shows the diff, impact, backtest and an optional comment, and submits as Approve", () => {
    const v = buildReviewModal(proposal({ impact: withOutcomes }), {
      proposalId: 12,
      channel: "D1",
      ts: "1.2",
    });
    expect(v.callback_id).toBe(PROPOSAL_REVIEW_MODAL);
    expect(v.submit?.text).toBe("Approve");
    expect(JSON.parse(v.private_metadata ?? "")).toEqual({
      proposalId: 12,
      channel: "D1",
      ts: "1.2",
    });
    expect(byId(v, PROPOSAL_DIFF_BLOCK)?.text?.text).toBe("*Changes*\n• MQL threshold: 50 → 45");
    expect(byId(v, PROPOSAL_IMPACT_BLOCK)?.text?.text).toContain("*13 leads* of 200");
    expect(byId(v, PROPOSAL_OUTCOMES_BLOCK)?.text?.text).toContain("*Backtest*");
    expect(byId(v, PROPOSAL_COMMENT_BLOCK)).toMatchObject({ type: "input", optional: true });
    expect(byId(v, PROPOSAL_WARNING_BLOCK)).toBeUndefined();
    expectWithinLimits(v, 100);
  });

  it("when the diff is huge and the change moves most leads, then the comment and the bold warning still fit within 100 blocks", () => {
    const changes = Array.from(
      { length: 5000 },
      (_, i) => `Rule ${i} (rule_${i}): +${i} → +${i + 1} points`,
    );
    const most = impact({ up: 150, down: 10 });
    const v = buildReviewModal(proposal({ kind: "model", changes, impact: most }), {
      proposalId: 12,
    });
    expectWithinLimits(v, 100);
    expect(byId(v, PROPOSAL_COMMENT_BLOCK)).toBeDefined();
    expect(byId(v, PROPOSAL_WARNING_BLOCK)?.text?.text).toBe(
      ":warning: *This change moves more than half of all leads: 160 of 200 change stage.*",
    );
    const m = buildProposalMessage(proposal({ kind: "model", changes, impact: most }));
    expectWithinLimits(m, 50);
    const ids = blocks(m).map((b) => b.block_id);
    expect(ids.indexOf(PROPOSAL_WARNING_BLOCK)).toBe(ids.indexOf(PROPOSAL_ACTIONS_BLOCK) - 1);
  });
});

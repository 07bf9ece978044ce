import { describe, expect, it } from "vitest";
import type { BreakdownEntry } from "../../src/core/model.js";
import {
  type AlertView,
  buildAlertClaimed,
  buildAlertMessage,
  buildAlertResolved,
  MAX_BLOCKS,
  MAX_HEADER,
  MAX_TEXT,
} from "../../src/slack/blocks/alert.js";
import {
  ALERT_ACTIONS_BLOCK,
  ALERT_CLAIM,
  ALERT_LOST,
  ALERT_NOT_A_FIT,
  ALERT_STATUS_BLOCK,
  ALERT_WON,
  decodeAlertAction,
} from "../../src/slack/ids.js";

function entry(over: Partial<BreakdownEntry> = {}): BreakdownEntry {
  return {
    ruleId: "demo_request",
    label: "Requested a demo",
    group: "engagement",
    count: 1,
    basePoints: 30,
    points: 30,
    ...over,
  };
}

function buildView(over: Partial<AlertView> = {}): AlertView {
  return {
    alertId: 41,
    leadId: 7,
    stage: "mql",
    name: "Jane Roe",
    email: "jane@acme.com",
    title: "VP Sales",
    company: "Acme",
    score: 72.46,
    fit: 30,
    engagement: 42.46,
    grade: "A",
    matrix: "A2",
    reasons: [
      entry({ ruleId: "size", label: "200-1000 employees", group: "fit", points: 10 }),
      entry(),
      entry({ ruleId: "pricing", label: "Viewed pricing", count: 3, points: 12.25 }),
    ],
    owner: "U0OWNER01",
    ...over,
  };
}

interface Element {
  action_id?: string;
  text?: { text: string };
  value?: string;
}
interface AnyBlock {
  type: string;
  block_id?: string;
  text?: { type: string; text: string };
  fields?: { text: string }[];
  elements?: Element[];
}

function blocksOf(m: { blocks: unknown[] }): AnyBlock[] {
  return m.blocks as AnyBlock[];
}

function texts(blocks: AnyBlock[]): string[] {
  return blocks.flatMap((b) => [
    ...(b.text ? [b.text.text] : []),
    ...(b.fields ?? []).map((f) => f.text),
  ]);
}

describe("alert message", () => {
  it("when built, then it names the lead, the score and the top reasons in order", () => {
    const m = buildAlertMessage(buildView());
    expect(m.text).toBe("New MQL: Jane Roe (jane@acme.com), score 72.5, A2");
    const blocks = blocksOf(m);
    expect(blocks.map((b) => b.type)).toEqual(["header", "section", "section", "actions"]);
    expect(blocks[0]?.text?.text).toBe("New MQL: Jane Roe");
    expect(blocks[1]?.text?.text).toBe("*Jane Roe* · VP Sales at Acme\njane@acme.com");
    expect(blocks[1]?.fields?.map((f) => f.text)).toEqual([
      "*Score*\n72.5",
      "*Grade*\nA2",
      "*Fit*\n30",
      "*Engagement*\n42.5",
      "*Owner*\n<@U0OWNER01>",
    ]);
    expect(blocks[2]?.text?.text).toBe(
      "*Why*\n• Requested a demo  *+30*\n• Viewed pricing ×3  *+12.3*\n• 200-1000 employees  *+10*",
    );
  });

  it("when built, then the buttons read Won, Lost, Not a fit, Claim and carry the ids", () => {
    const actions = blocksOf(buildAlertMessage(buildView())).find(
      (b) => b.block_id === ALERT_ACTIONS_BLOCK,
    );
    expect(actions?.elements?.map((e) => [e.action_id, e.text?.text])).toEqual([
      [ALERT_WON, "Won"],
      [ALERT_LOST, "Lost"],
      [ALERT_NOT_A_FIT, "Not a fit"],
      [ALERT_CLAIM, "Claim"],
    ]);
    for (const e of actions?.elements ?? []) {
      expect(decodeAlertAction(e.value)).toEqual({ alertId: 41, leadId: 7 });
    }
  });

  it("when there are more than five reasons, then only the five strongest are shown", () => {
    const reasons = Array.from({ length: 12 }, (_, i) =>
      entry({ ruleId: `r${i}`, label: `Rule ${i}`, points: i }),
    );
    const why = blocksOf(buildAlertMessage(buildView({ reasons })))[2]?.text?.text ?? "";
    expect(why.split("\n").slice(1)).toEqual([
      "• Rule 11  *+11*",
      "• Rule 10  *+10*",
      "• Rule 9  *+9*",
      "• Rule 8  *+8*",
      "• Rule 7  *+7*",
    ]);
  });

  it("when names hold mrkdwn control characters, then they are escaped", () => {
    const m = buildAlertMessage(buildView({ name: "<!channel> & co", company: "A>B" }));
    const summary = blocksOf(m)[1]?.text?.text ?? "";
    expect(summary).toContain("*&lt;!channel&gt; &amp; co*");
    expect(summary).toContain("A&gt;B");
    expect(summary).not.toContain("<!channel>");
  });

  it("when the input is very long, then every text stays within Slack's limits", () => {
    const long = "x".repeat(10_000);
    const view = buildView({
      name: long,
      email: `${long}@acme.com`,
      title: long,
      company: long,
      matrix: long,
      owner: long,
      reasons: Array.from({ length: 200 }, (_, i) => entry({ ruleId: `r${i}`, label: long })),
    });
    for (const m of [
      buildAlertMessage(view),
      buildAlertResolved(view, { outcome: "lost", by: long, at: new Date(0), reason: long }),
      buildAlertClaimed(view, long),
    ]) {
      const blocks = blocksOf(m);
      expect(blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
      expect(m.text.length).toBeLessThanOrEqual(MAX_TEXT);
      expect(blocks[0]?.text?.text.length).toBeLessThanOrEqual(MAX_HEADER);
      for (const t of texts(blocks)) expect(t.length).toBeLessThanOrEqual(MAX_TEXT);
      for (const b of blocks) {
        for (const e of b.elements ?? []) expect(e.text?.text.length ?? 0).toBeLessThanOrEqual(75);
      }
    }
  });

  it("when a lead has no email, title, company or owner, then those parts are left out", () => {
    const m = buildAlertMessage(
      buildView({ email: null, title: null, company: undefined, owner: null, reasons: [] }),
    );
    const blocks = blocksOf(m);
    expect(m.text).toBe("New MQL: Jane Roe, score 72.5, A2");
    expect(blocks.map((b) => b.type)).toEqual(["header", "section", "actions"]);
    expect(blocks[1]?.text?.text).toBe("*Jane Roe*");
    expect(blocks[1]?.fields).toHaveLength(4);
  });
});

describe("resolved and claimed alerts", () => {
  const at = new Date("2025-03-04T05:06:07Z");

  it("when an outcome is given, then the buttons give way to who said what and when", () => {
    const m = buildAlertResolved(buildView({ stage: "sql" }), {
      outcome: "not_a_fit",
      by: "U0REP0001",
      at,
      reason: "Student project",
    });
    const blocks = blocksOf(m);
    expect(blocks.some((b) => b.type === "actions")).toBe(false);
    expect(m.text).toBe("New SQL: Jane Roe (jane@acme.com), score 72.5, A2 (marked Not a fit)");
    const status = blocks.find((b) => b.block_id === ALERT_STATUS_BLOCK);
    expect(status?.text?.text).toBe(
      ":no_entry_sign: Marked *Not a fit* by <@U0REP0001> " +
        "<!date^1741064767^{date_short_pretty} at {time}|2025-03-04T05:06:07.000Z>\n" +
        "Reason: Student project",
    );
  });

  it.each([
    ["won", ":trophy: Marked *Won*"],
    ["lost", ":x: Marked *Lost*"],
  ] as const)("when marked %s, then the status says so", (outcome, start) => {
    const status = blocksOf(buildAlertResolved(buildView(), { outcome, by: "U0REP0001", at })).find(
      (b) => b.block_id === ALERT_STATUS_BLOCK,
    );
    expect(status?.text?.text.startsWith(start)).toBe(true);
  });

  it("when claimed, then Claim is gone, the claimer is shown and the outcome buttons stay", () => {
    const blocks = blocksOf(buildAlertClaimed(buildView(), "U0REP0002"));
    const status = blocks.find((b) => b.block_id === ALERT_STATUS_BLOCK);
    expect(status?.text?.text).toBe(":raising_hand: Claimed by <@U0REP0002>");
    const actions = blocks.find((b) => b.block_id === ALERT_ACTIONS_BLOCK);
    expect(actions?.elements?.map((e) => e.text?.text)).toEqual(["Won", "Lost", "Not a fit"]);
  });
});

import { describe, expect, it } from "vitest";
import type { BreakdownEntry, ScoreResult } from "../../src/core/model.js";
import type { LeadSummary } from "../../src/services/leads.js";
import { packLines } from "../../src/slack/blocks/common.js";
import { buildHelp, buildUsageError } from "../../src/slack/blocks/help.js";
import { buildHome } from "../../src/slack/blocks/home.js";
import {
  decodeHomeFoundPage,
  decodeListPage,
  HOME_FOUND_NEXT,
  HOME_FOUND_PAGES_BLOCK,
  HOME_FOUND_PREVIOUS,
  LIST_PAGE,
} from "../../src/slack/blocks/ids.js";
import { buildLeadList, buildWhy, LIST_PAGE_SIZE } from "../../src/slack/blocks/leads.js";
import { buildLostModal, parseLostSubmission } from "../../src/slack/blocks/lost.js";
import { buildHistory } from "../../src/slack/blocks/team.js";
import { parseCommand } from "../../src/slack/commands/parse.js";
import {
  LOST_NOTE_ACTION,
  LOST_NOTE_BLOCK,
  LOST_REASON_ACTION,
  LOST_REASON_BLOCK,
} from "../../src/slack/ids.js";

/** Every `text` string anywhere in a payload, with the longest one's length. */
function texts(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) texts(x, out);
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "text" && typeof x === "string") out.push(x);
      else texts(x, out);
    }
  }
  return out;
}

function expectWithinLimits(blocks: unknown[], maxBlocks: number): void {
  expect(blocks.length).toBeLessThanOrEqual(maxBlocks);
  for (const t of texts(blocks)) expect(t.length).toBeLessThanOrEqual(3000);
}

function lead(i: number, over: Partial<LeadSummary> = {}): LeadSummary {
  return {
    id: i,
    email: `p${i}@x${i}.com`,
    externalId: null,
    name: `Person ${i}`,
    title: "VP Sales",
    company: `Company ${i}`,
    owner: i % 2 ? "U0REP00001" : null,
    score: 100 - i,
    fit: 40,
    engagement: 60 - i,
    grade: "A",
    level: 1,
    stage: "sql",
    scoredAt: new Date(0),
    ...over,
  };
}

describe("Block Kit builders", () => {
  it("when a page of leads is built, then it has one row per lead, a Next button and stays in limits", () => {
    const leads = Array.from({ length: LIST_PAGE_SIZE }, (_, i) =>
      lead(i + 1, { title: "x".repeat(5000) }),
    );
    const next = { q: "top" as const, limit: 100, offset: 20, stage: "all" as const };
    const m = buildLeadList({ title: "Top 100 leads", leads, offset: 0, next, empty: "none" });
    expectWithinLimits(m.blocks, 50);
    expect(m.blocks.filter((b) => b.type === "section" && "accessory" in b)).toHaveLength(
      LIST_PAGE_SIZE,
    );
    const more = m.blocks.at(-1) as unknown as { elements: { action_id: string; value: string }[] };
    expect(more.elements[0]?.action_id).toBe(LIST_PAGE);
    expect(decodeListPage(more.elements[0]?.value)).toEqual(next);
    expect(m.response_type).toBe("ephemeral");
  });

  it("when no lead matches, then the list is a plain sentence", () => {
    const m = buildLeadList({ title: "t", leads: [], offset: 0, empty: "No leads yet." });
    expect(texts(m.blocks)).toEqual(["No leads yet."]);
  });

  it("when a lead has hundreds of rules with long labels, then why is split into sections within 50 blocks", () => {
    const breakdown: BreakdownEntry[] = Array.from({ length: 400 }, (_, i) => ({
      ruleId: `rule_${i}`,
      label: `Label ${i} ${"y".repeat(300)}`,
      group: i % 2 ? "fit" : "engagement",
      count: 2,
      basePoints: 10,
      points: 7.5,
    }));
    const result: ScoreResult = {
      total: 99,
      fit: 40,
      engagement: 59,
      grade: "A",
      level: 1,
      matrix: "A1",
      stage: "sql",
      breakdown,
    };
    const m = buildWhy({
      leadId: 1,
      name: "Jane",
      email: null,
      company: null,
      modelVersion: 3,
      result,
      stage: "sql",
      at: 0,
    });
    expectWithinLimits(m.blocks, 50);
    expect(texts(m.blocks).join("\n")).toMatch(/…and \d+ more/);
    expect(texts(m.blocks).join("\n")).toContain("(+10 before decay)");
  });

  it("when the home tab has many proposals and alerts, then it stays under 100 blocks", () => {
    const view = buildHome({
      userId: "U0ADMIN001",
      role: "admin",
      // A middle page of a search with the longest filters a person can type.
      found: {
        title: "t".repeat(3000),
        filters: { q: "q".repeat(200), owner: "o".repeat(200), grade: ["A", "B"], stage: "sql" },
        leads: Array.from({ length: 20 }, (_, i) => lead(i, { name: "f".repeat(4000) })),
        offset: 20,
        more: true,
        savedAs: "v".repeat(40),
      },
      myTop: Array.from({ length: 50 }, (_, i) => lead(i, { name: "n".repeat(4000) })),
      awaiting: Array.from({ length: 11 }, (_, i) => ({
        alertId: i,
        leadId: i,
        stage: "mql" as const,
        name: `N${i}`,
        email: null,
        company: "c".repeat(40),
        score: 60,
        alertedAt: new Date(0),
      })),
      proposals: Array.from({ length: 300 }, (_, i) => ({
        id: i,
        kind: "weights",
        proposedBy: i % 2 ? "U0ADMIN001" : "U0REP00001",
        diff: Array.from({ length: 80 }, (_, k) => `rule_${k}: ${k} → ${k + 1} ${"z".repeat(50)}`),
        createdAt: new Date(0),
      })),
      counts: { lead: 1, mql: 2, sql: 3 },
      modelVersion: 7,
      now: new Date(0),
    });
    expect(view.type).toBe("home");
    expectWithinLimits(view.blocks, 100);
    const all = texts(view.blocks).join("\n");
    expect(all).toContain("…and 290 more pending");
    const pages = view.blocks.find((b) => b.block_id === HOME_FOUND_PAGES_BLOCK) as
      | { elements: { action_id: string; value: string }[] }
      | undefined;
    expect(pages?.elements.map((e) => e.action_id)).toEqual([HOME_FOUND_PREVIOUS, HOME_FOUND_NEXT]);
    expect(pages?.elements.map((e) => decodeHomeFoundPage(e.value)?.offset)).toEqual([0, 40]);
    expect(all).toContain("Leads found* (21–40)");
    expect(all).toContain("…and more: `/lead top 50 mine`");
    expect(all).toContain("_yours: another manager decides_");
  });

  it("when a rep opens home, then the approvals section is not there", () => {
    const view = buildHome({
      userId: "U0REP00001",
      role: "rep",
      myTop: [],
      awaiting: [],
      proposals: [
        {
          id: 1,
          kind: "thresholds",
          proposedBy: "U0X",
          diff: ["mql 50 → 55"],
          createdAt: new Date(0),
        },
      ],
      counts: { lead: 0, mql: 0, sql: 0 },
      modelVersion: 1,
      now: new Date(0),
    });
    expect(texts(view.blocks).join("\n")).not.toContain("waiting for approval");
  });

  it("when the history is long, then it is packed into sections within 50 blocks", () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      id: i,
      at: new Date(0),
      actor: "U0REP00001",
      action: "lead.won",
      subject: `lead:${i}`,
      details: { reason: "no_budget" },
    }));
    expectWithinLimits(buildHistory(rows).blocks, 50);
  });

  it("when lines are packed, then no text passes the limit and none is split", () => {
    const lines = Array.from({ length: 100 }, (_, i) => `${i} ${"a".repeat(100)}`);
    const packed = packLines(lines, 1000);
    for (const p of packed) expect(p.length).toBeLessThanOrEqual(1000);
    expect(packed.join("\n").split("\n")).toEqual(lines);
    expect(packLines(["b".repeat(5000)], 3000)[0]).toHaveLength(3000);
  });

  it("when help or a usage error is built, then it names the commands and the fix", () => {
    expect(texts(buildHelp().blocks).join("\n")).toContain(
      "`/lead top [N] [mql|sql|all] [mine|@user] [model:<key>] [view:<name>]`",
    );
    expect(texts(buildHelp("why").blocks).join("\n")).toContain(
      "Example: `/lead why jane@acme.com`",
    );
    const err = parseCommand("shwo 3");
    if (err.kind !== "error") throw new Error("expected an error");
    expect(texts(buildUsageError(err).blocks).join("\n")).toContain("Did you mean `/lead show`?");
  });

  it("when the Lost modal is built and submitted, then reasons and notes are checked at the edge", () => {
    const modal = buildLostModal({ leadId: 4, alertId: 9, channel: "C1", ts: "1.2" }, "Jane");
    expect(modal.title.text.length).toBeLessThanOrEqual(24);
    expect(JSON.parse(modal.private_metadata ?? "")).toEqual({
      leadId: 4,
      alertId: 9,
      channel: "C1",
      ts: "1.2",
    });
    const values = (reason: string | undefined, note: string | null) => ({
      [LOST_REASON_BLOCK]: {
        [LOST_REASON_ACTION]: { selected_option: reason ? { value: reason } : null },
      },
      [LOST_NOTE_BLOCK]: { [LOST_NOTE_ACTION]: { value: note } },
    });
    expect(parseLostSubmission(values("no_budget", null))).toEqual({
      ok: true,
      reason: "no_budget",
      note: undefined,
    });
    expect(parseLostSubmission(values("other", "  "))).toEqual({
      ok: false,
      errors: { [LOST_NOTE_BLOCK]: "Say what happened when the reason is Other." },
    });
    expect(parseLostSubmission(values(undefined, "x"))).toEqual({
      ok: false,
      errors: { [LOST_REASON_BLOCK]: "Choose a reason." },
    });
    expect(parseLostSubmission(values("made_up", null))).toMatchObject({ ok: false });
    expect(parseLostSubmission(values("other", "n".repeat(501)))).toMatchObject({ ok: false });
  });
});

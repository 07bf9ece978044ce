import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/slack/commands/parse.js";

describe("/lead find, top view:, routing and away", () => {
  it.each([
    ["find", { kind: "findForm" }],
    ["find   ", { kind: "findForm" }],
    ["find acme", { kind: "find", text: "acme" }],
    ["top 20 view:hot-emea", { kind: "top", limit: 20, stage: "all", view: "hot-emea" }],
    [
      "top view:hot sql mine",
      { kind: "top", limit: 10, stage: "sql", view: "hot", owner: { kind: "mine" } },
    ],
    ["routing", { kind: "routing" }],
    ["away until 2026-12-24", { kind: "away", until: "2026-12-24" }],
    ["away off", { kind: "away", until: null }],
  ])("when /lead %s is typed, then it parses", (text, expected) => {
    expect(parseCommand(text)).toMatchObject(expected);
  });

  it.each([
    ["top view:a view:b", "Give one view"],
    ["away until 2026-02-30", "away until YYYY-MM-DD"],
    ["away tomorrow", "away until YYYY-MM-DD"],
    ["routing now", "routing takes no arguments"],
  ])("when /lead %s is typed, then it is refused with a reason", (text, message) => {
    const r = parseCommand(text);
    expect(r.kind).toBe("error");
    expect(r.kind === "error" && r.message).toContain(message);
  });
});

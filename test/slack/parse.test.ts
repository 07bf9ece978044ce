import { describe, expect, it } from "vitest";
import {
  editDistance,
  parseCommand,
  parseUser,
  SUBCOMMANDS,
  suggest,
  unescapeSlack,
} from "../../src/slack/commands/parse.js";

describe("/lead parser", () => {
  it.each([
    ["", { kind: "help" }],
    ["   ", { kind: "help" }],
    ["help", { kind: "help" }],
    ["help top", { kind: "help", topic: "top" }],
    ["top", { kind: "top", limit: 10, stage: "all", owner: undefined }],
    ["top 25", { kind: "top", limit: 25, stage: "all", owner: undefined }],
    ["TOP 5 SQL", { kind: "top", limit: 5, stage: "sql", owner: undefined }],
    ["top mql mine", { kind: "top", limit: 10, stage: "mql", owner: { kind: "mine" } }],
    [
      "top 3 <@U0REP0001|riley>",
      { kind: "top", limit: 3, stage: "all", owner: { kind: "user", userId: "U0REP0001" } },
    ],
    ["show jane@acme.com", { kind: "show", lead: "jane@acme.com" }],
    ["show <mailto:jane@acme.com|jane@acme.com>", { kind: "show", lead: "jane@acme.com" }],
    ["why 42", { kind: "why", lead: "42" }],
    ["find acme corp", { kind: "find", text: "acme corp" }],
    ["won jane@acme.com", { kind: "won", lead: "jane@acme.com" }],
    ["lost 7", { kind: "lost", lead: "7" }],
    [
      "lost 7 chose_competitor went with Globex",
      { kind: "lost", lead: "7", reason: "chose_competitor", note: "went with Globex" },
    ],
    ["lost 7 no-budget", { kind: "lost", lead: "7", reason: "no_budget", note: undefined }],
    ["lost 7 they vanished", { kind: "lost", lead: "7", reason: "other", note: "they vanished" }],
    ["assign 7 <@U0REP0002>", { kind: "assign", lead: "7", userId: "U0REP0002" }],
    ["assign 7 @U0REP0002", { kind: "assign", lead: "7", userId: "U0REP0002" }],
    ["thresholds", { kind: "thresholds" }],
    ["weights", { kind: "weights" }],
    ["thresholds model:emea", { kind: "thresholds", model: "emea" }],
    ["weights MODEL:EMEA", { kind: "weights", model: "emea" }],
    ["rules", { kind: "rules", settings: false }],
    ["rules settings model:emea", { kind: "rules", settings: true, model: "emea" }],
    ["rules model:emea", { kind: "rules", settings: false, model: "emea" }],
    ["stats", { kind: "stats", period: "90d" }],
    ["stats 30D", { kind: "stats", period: "30d" }],
    ["stats all", { kind: "stats", period: "all" }],
    ["reopen jane@acme.com", { kind: "reopen", lead: "jane@acme.com" }],
    ["history", { kind: "history" }],
    ["role <@U0MAN0001|morgan> Manager", { kind: "role", userId: "U0MAN0001", role: "manager" }],
  ])("when the text is %j, then it parses as a command", (text, expected) => {
    expect(parseCommand(text)).toEqual(expected);
  });

  it.each([
    ["tpo 10", "top"],
    ["shwo jane@acme.com", "show"],
    ["wy 3", "why"],
    ["thresold", "thresholds"],
    ["weight", "weights"],
    ["histroy", "history"],
    ["asign 1 @U0REP0001", "assign"],
  ])("when the subcommand is mistyped as %j, then it suggests %s", (text, suggestion) => {
    const r = parseCommand(text);
    expect(r).toMatchObject({ kind: "error", suggestion });
    if (r.kind === "error") expect(r.message).toContain("is not a /lead command");
  });

  it("when the word is nothing like a command, then no suggestion is made", () => {
    expect(parseCommand("pizza")).toEqual({
      kind: "error",
      message: '"pizza" is not a /lead command.',
      usageOf: undefined,
      suggestion: undefined,
    });
  });

  it.each([
    ["top 0", "top", "from 1 to 500"],
    ["top 501", "top", "at most 500"],
    ["top 2.5", "top", "whole number"],
    ["top 5 6", "top", "once"],
    ["top banana", "top", "not a number"],
    ["show", "show", "which lead"],
    ["why a b", "why", "one lead"],
    ["find a", "find", "two characters"],
    ["assign 7", "assign", "@"],
    ["assign 7 maria", "assign", "@"],
    ["role @U0MAN0001 boss", "role", "one of admin, manager, rep"],
    ["role manager", "role", "@"],
    ["stats now", "stats", "one of 30d, 90d, all"],
    ["stats 30d all", "stats", "one period"],
    ["reopen", "reopen", "which lead"],
    ["weights emea", "weights", "model:<key>"],
    ["thresholds model:", "thresholds", "model:<key>"],
    ["thresholds model:emea model:apac", "thresholds", "model:<key>"],
    ["rules model:Not_A Key", "rules", "model:<key>"],
    ["rules settings settings", "rules", "settings, model:<key>"],
    ["rules model:emea model:apac", "rules", "settings, model:<key>"],
  ])(
    "when %j is malformed, then the error names what to fix with %s usage",
    (text, usageOf, part) => {
      const r = parseCommand(text);
      expect(r).toMatchObject({ kind: "error", usageOf });
      if (r.kind === "error") expect(r.message).toContain(part);
    },
  );

  it("when distances are measured, then they count single-character edits", () => {
    expect(editDistance("top", "top")).toBe(0);
    expect(editDistance("tpo", "top")).toBe(1);
    expect(editDistance("abc", "xyz")).toBe(3);
    expect(editDistance("", "why")).toBe(3);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });

  it("when every subcommand is typed exactly, then suggest returns it", () => {
    for (const s of SUBCOMMANDS) expect(suggest(s)).toBe(s);
  });

  it("when Slack escapes users, emails and links, then they come back as plain words", () => {
    expect(unescapeSlack("<@U1AB|x> <mailto:a@b.co|a@b.co> <https://x.io|x.io> a &amp; b")).toBe(
      "@U1AB a@b.co https://x.io a & b",
    );
    expect(parseUser("<@W0ABC>")).toBe("W0ABC");
    expect(parseUser("maria")).toBeUndefined();
  });
});

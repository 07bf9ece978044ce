import { describe, expect, it } from "vitest";
import { buildAlertMessage } from "../../src/slack/blocks/alert.js";
import { buildProposalMessage } from "../../src/slack/blocks/tuning/proposal.js";
import { textOf } from "../support/slack.js";

const proposal = {
  id: 12,
  kind: "model" as const,
  proposedBy: "U0REP00001",
  baseVersion: 0,
  changes: ["New model emea (EMEA) for country one of DE, FR (priority 10)"],
  impact: null,
  note: null,
  createdAt: new Date("2026-11-01T10:00:00Z"),
};

const alert = {
  alertId: 1,
  leadId: 7,
  stage: "mql" as const,
  name: "Anna Berg",
  email: "anna@berlin.de",
  score: 61,
  fit: 30,
  engagement: 31,
  grade: "B" as const,
  matrix: "B2",
  reasons: [],
};

describe("blocks that name a model", () => {
  it("when a proposal creates a model, then its message says it is a new model and names it", () => {
    const text = textOf(buildProposalMessage({ ...proposal, modelKey: "emea" }).blocks);
    expect(text).toContain("(a new model *emea*)");
  });

  it("when a proposal changes a named model, then its message names the model and its base", () => {
    const text = textOf(
      buildProposalMessage({ ...proposal, kind: "weights", baseVersion: 4, modelKey: "emea" })
        .blocks,
    );
    expect(text).toContain("(model *emea*, based on v4)");
  });

  it("when a proposal changes the default model, then its message reads as it always did", () => {
    const text = textOf(
      buildProposalMessage({ ...proposal, kind: "weights", baseVersion: 4, modelKey: "default" })
        .blocks,
    );
    expect(text).toContain("(based on model v4)");
  });

  it("when an alert is about a lead of a named model, then it shows the model; the default model is not shown", () => {
    expect(textOf(buildAlertMessage({ ...alert, model: "emea" }).blocks)).toContain(
      "*Model*\nemea",
    );
    expect(textOf(buildAlertMessage({ ...alert, model: "default" }).blocks)).not.toContain(
      "*Model*",
    );
  });
});

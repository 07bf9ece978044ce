import { describe, expect, it } from "vitest";
import { parseLeadKey } from "../../src/core/lead-key.js";

describe("parseLeadKey", () => {
  it.each([
    ["Jane@Acme.com", { kind: "email", email: "jane@acme.com" }],
    ["id:42", { kind: "id", id: 42 }],
    ["ID: 7", { kind: "id", id: 7 }],
    ["ext:42", { kind: "ext", externalId: "42" }],
    ["ext:crm-0001", { kind: "ext", externalId: "crm-0001" }],
    ["42", { kind: "bare", value: "42" }],
    ["crm-0001", { kind: "bare", value: "crm-0001" }],
  ])("when the key is %j, then it is read as %j", (raw, form) => {
    expect(parseLeadKey(raw)).toEqual(form);
  });

  it.each([
    "",
    "id:",
    "id:abc",
    "id:0",
    "id:-3",
    "ext:",
    "id:99999999999999999999",
    "ext:\u0000",
    "a\u0000b",
    "jane\u0000@acme.com",
    "ext:\ud800x",
  ])("when the key is %j, then it is refused with a sentence", (raw) => {
    const form = parseLeadKey(raw);
    expect(form.kind).toBe("invalid");
    if (form.kind !== "invalid") throw new Error("expected invalid");
    expect(form.reason.length).toBeGreaterThan(10);
  });

  it("when a key holds NUL, then the sentence says which characters to remove", () => {
    const form = parseLeadKey("ext:crm\u00001");
    expect(form).toEqual({
      kind: "invalid",
      reason: expect.stringContaining("must not contain NUL"),
    });
  });
});

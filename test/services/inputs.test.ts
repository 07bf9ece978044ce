import { describe, expect, it } from "vitest";
import { eventInputSchema, itemErrors, parseEventInput } from "../../src/services/inputs.js";

const base = {
  id: "evt-1",
  email: "jane@acme.com",
  type: "page_view",
  occurredAt: "2026-05-01T10:00:00.000Z",
  properties: { url: "/pricing" },
};

// Valid and invalid shapes, including the edge cases the fast path must hand to the schema.
const cases: unknown[] = [
  base,
  { ...base, properties: undefined },
  { ...base, email: "  Jane@ACME.com " },
  { ...base, email: undefined, leadId: 42 },
  { ...base, email: undefined, leadId: "42" },
  { ...base, email: undefined, leadId: "0" },
  { ...base, email: undefined, leadId: 0 },
  { ...base, email: undefined, leadId: 1.5 },
  { ...base, email: undefined, leadId: 2 ** 60 },
  { ...base, email: undefined, externalId: "  crm-7 " },
  { ...base, email: undefined, externalId: "   " },
  { ...base, email: undefined },
  { ...base, email: "not an email" },
  { ...base, id: "  " },
  { ...base, id: "x".repeat(201) },
  { ...base, id: 7 },
  { ...base, type: "Demo Requested" },
  { ...base, type: "demoRequest" },
  { ...base, type: "page_view_" },
  { ...base, type: "page__view" },
  { ...base, type: "_page" },
  { ...base, type: "9lives" },
  { ...base, type: "!!!" },
  { ...base, type: "x".repeat(65) },
  { ...base, occurredAt: Date.UTC(2026, 4, 1) },
  { ...base, occurredAt: 1_700_000_000 },
  { ...base, occurredAt: "yesterday" },
  { ...base, occurredAt: Number.NaN },
  { ...base, occurredAt: undefined },
  { ...base, properties: [] },
  { ...base, properties: null },
  { ...base, properties: JSON.parse('{"__proto__": {"x": 1}}') },
  { ...base, extra: 1 },
  JSON.parse('{"id":"e","email":"a@b.co","type":"t","occurredAt":"2026-01-01","__proto__":1}'),
  Object.assign(Object.create(null), base),
  [base],
  null,
  "event",
];

describe("parseEventInput", () => {
  it.each(cases.map((c, i) => [i, c]))("case %i reads exactly as the schema does", (i, c) => {
    const fast = parseEventInput(c);
    const slow = eventInputSchema.safeParse(c);
    expect(fast.success, `case ${i}`).toBe(slow.success);
    if (fast.success && slow.success) expect(fast.data).toEqual(slow.data);
    if (!fast.success && !slow.success)
      expect(itemErrors(i as number, fast.error)).toEqual(itemErrors(i as number, slow.error));
  });

  it("normalises and lower-cases the common shape", () => {
    const parsed = parseEventInput({ ...base, email: "Jane@Acme.com", type: "Demo Requested" });
    expect(parsed.success && parsed.data).toEqual({
      id: "evt-1",
      email: "jane@acme.com",
      type: "demo_requested",
      occurredAt: new Date("2026-05-01T10:00:00.000Z"),
      properties: { url: "/pricing" },
    });
  });
});

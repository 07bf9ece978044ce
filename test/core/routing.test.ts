import { describe, expect, it } from "vitest";
import type { LeadFacts } from "../../src/core/model.js";
import {
  ownerForTurn,
  parseRoutingText,
  RoutingFileError,
  routeLeads,
  routingText,
} from "../../src/core/routing.js";

const lead = (over: Partial<LeadFacts> = {}): LeadFacts => ({
  email: "a@b.example",
  externalId: null,
  firstName: null,
  lastName: null,
  title: null,
  company: null,
  industry: "Software",
  employees: 500,
  annualRevenue: null,
  country: "US",
  source: null,
  owner: null,
  attributes: { region: "west" },
  ...over,
});

const RULES = parseRoutingText(`
rules:
  - name: Big west
    when:
      - { field: employees, op: range, min: 1000 }
      - { field: attributes.region, op: equals, value: west }
    target: { kind: user, user: U0BIG0001 }
  - name: Rotation
    when: [{ field: country, op: oneOf, values: [US, CA] }]
    target: { kind: round_robin, users: [U0REP0001, U0REP0002] }
`);

describe("routing rules", () => {
  it("when several rules match, then the first in order wins, and a lead no rule matches is left alone", () => {
    const d = routeLeads(
      RULES,
      [lead({ employees: 5000 }), lead(), lead({ country: "BR" })],
      new Set(),
    );
    expect(d.map((x) => [x.index, x.rule.name])).toEqual([
      [0, "Big west"],
      [1, "Rotation"],
    ]);
  });

  it("when everyone a rule names is away, then the lead falls through to the next rule", () => {
    const d = routeLeads(RULES, [lead({ employees: 5000 })], new Set(["U0BIG0001"]));
    expect(d[0]?.rule.name).toBe("Rotation");
    expect(routeLeads(RULES, [lead()], new Set(["U0REP0001", "U0REP0002"]))).toEqual([]);
  });

  it("when turns follow each other, then the rotation visits each available person in order", () => {
    const people = ["U1", "U2", "U3"];
    expect([0, 1, 2, 3, 4].map((t) => ownerForTurn(people, t))).toEqual([
      "U1",
      "U2",
      "U3",
      "U1",
      "U2",
    ]);
    expect(ownerForTurn([], 3)).toBeUndefined();
  });

  it("when a file is wrong, then every problem is named with its path", () => {
    expect(() =>
      parseRoutingText(
        "rules:\n  - name: a\n    target: { kind: round_robin, users: [] }\n  - name: a\n    when: [{ field: nope, op: present }]\n    target: { kind: user, user: U0X0001 }\n",
      ),
    ).toThrowError(RoutingFileError);
    try {
      parseRoutingText("rules:\n  - name: a\n    target: { kind: user, user: bob }\n");
    } catch (err) {
      expect((err as RoutingFileError).issues[0]).toMatch(/^rules\.0\.target\.user: /);
    }
    expect(() => parseRoutingText("rules: [")).toThrowError(RoutingFileError);
  });

  it("when rules are written out and read back, then they are the same, and an empty file is no rules", () => {
    expect(parseRoutingText(routingText(RULES))).toEqual(RULES);
    expect(parseRoutingText("")).toEqual([]);
  });
});

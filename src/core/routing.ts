import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { z } from "zod";
import { fitRuleMatches } from "./engine.js";
import { fitConditionSchema, type LeadFacts } from "./model.js";

/** A Slack user id: routing targets are people in the workspace. */
const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, "a Slack user id such as U012ABCDEF");

/** Rules are read by people in `/lead routing`: a handful, not a rule engine. */
export const MAX_ROUTING_RULES = 50;
/** A rotation longer than a sales floor is a typo. */
const MAX_ROTATION = 50;

export const routingTargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("user"), user: userId }),
  z.strictObject({
    kind: z.literal("round_robin"),
    users: z
      .array(userId)
      .min(1, "a round robin needs at least one user")
      .max(MAX_ROTATION)
      .refine((u) => new Set(u).size === u.length, "each user appears once"),
  }),
]);
export type RoutingTarget = z.infer<typeof routingTargetSchema>;

/** One rule: all `when` conditions (the model's fit conditions) must hold; none matches all. */
export const routingRuleSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(80)
    .regex(/^[\p{L}\p{N}][\p{L}\p{N} _.-]*$/u, "letters, digits, spaces, _ . and -"),
  when: z.array(fitConditionSchema).default([]),
  target: routingTargetSchema,
});
export type RoutingRule = z.infer<typeof routingRuleSchema>;

export const routingFileSchema = z
  .strictObject({ rules: z.array(routingRuleSchema).max(MAX_ROUTING_RULES) })
  .refine((f) => new Set(f.rules.map((r) => r.name)).size === f.rules.length, {
    message: "rule names must be unique",
    path: ["rules"],
  });

export class RoutingFileError extends Error {
  readonly code = "routing_invalid";
  constructor(readonly issues: string[]) {
    super(`The routing rules are not valid:\n${issues.map((i) => `  ${i}`).join("\n")}`);
    this.name = "RoutingFileError";
  }
}

/** Parses rules from YAML (or JSON); every problem is named with its path. */
export function parseRoutingText(text: string): RoutingRule[] {
  let raw: unknown;
  try {
    raw = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new RoutingFileError([(err as Error).message.split("\n")[0] ?? "not YAML"]);
  }
  // An empty document is no rules at all: every lead waits for a claim.
  const parsed = routingFileSchema.safeParse(raw ?? { rules: [] });
  if (!parsed.success) {
    throw new RoutingFileError(
      parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`),
    );
  }
  return parsed.data.rules;
}

export function routingText(rules: readonly RoutingRule[]): string {
  return stringifyYaml({ rules });
}

/** The people a target may give a lead to now: those not away. */
export function availableUsers(target: RoutingTarget, away: ReadonlySet<string>): string[] {
  const users = target.kind === "user" ? [target.user] : target.users;
  return users.filter((u) => !away.has(u));
}

/** The owner for the n-th turn of a rotation over the people available (0-based turn). */
export function ownerForTurn(available: readonly string[], turn: number): string | undefined {
  if (available.length === 0) return undefined;
  return available[((turn % available.length) + available.length) % available.length];
}

export interface RoutingDecision {
  /** Index of the lead in the caller's list. */
  index: number;
  rule: RoutingRule;
  available: string[];
}

/**
 * Which leads each rule takes: the first matching rule with someone available. A rule whose
 * people are all away passes the lead on to the next rule.
 */
export function routeLeads(
  rules: readonly RoutingRule[],
  leads: readonly LeadFacts[],
  away: ReadonlySet<string>,
): RoutingDecision[] {
  const out: RoutingDecision[] = [];
  leads.forEach((lead, index) => {
    for (const rule of rules) {
      if (!fitRuleMatches(lead, rule.when)) continue;
      const available = availableUsers(rule.target, away);
      if (available.length === 0) continue;
      out.push({ index, rule, available });
      return;
    }
  });
  return out;
}

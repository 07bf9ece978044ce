// The function's own module: the package index loads all of date-fns (about 30 MB of memory).
import { startOfISOWeek } from "date-fns/startOfISOWeek";
import type { LeadFacts } from "../core/model.js";
import {
  ownerForTurn,
  parseRoutingText,
  RoutingFileError,
  type RoutingRule,
  routeLeads,
  routingRuleSchema,
  routingText,
} from "../core/routing.js";
import type { Db, DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import {
  assignmentShares,
  awayList,
  awayUserIds,
  clearAway,
  type RoutedAssignment,
  replaceRoutingRules,
  routingRuleRows,
  setAway as setAwayRow,
  takeTurns,
  writeRoutedOwners,
} from "../db/queries/routing.js";
import { ForbiddenError, InvalidInputError } from "./errors.js";
import { roleOf } from "./team.js";

export type { RoutingRule };

/** The stored rules, in order; a row that no longer validates is left out rather than guessed at. */
export async function loadRules(db: DbOrTx): Promise<RoutingRule[]> {
  const rows = await routingRuleRows(db);
  const rules: RoutingRule[] = [];
  for (const r of rows) {
    const parsed = routingRuleSchema.safeParse({
      name: r.name,
      when: r.conditions,
      target: r.target,
    });
    if (parsed.success) rules.push(parsed.data);
  }
  return rules;
}

export interface Crossing {
  leadId: number;
  facts: LeadFacts;
}

/**
 * Gives unowned leads that just crossed into MQL or SQL an owner, inside the scoring
 * transaction: rules are matched here on facts already loaded, and each rule used takes its
 * turns with one upsert. Returns the new owner (and rule) of each routed lead.
 */
export async function routeCrossings(
  tx: DbOrTx,
  crossings: readonly Crossing[],
  at: string,
): Promise<Map<number, RoutedAssignment>> {
  const routed = new Map<number, RoutedAssignment>();
  if (crossings.length === 0) return routed;
  const rules = await loadRules(tx);
  if (rules.length === 0) return routed;
  const away = new Set(await awayUserIds(tx, { at: new Date(at) }));
  const decisions = routeLeads(
    rules,
    crossings.map((c) => c.facts),
    away,
  );
  const byRule = new Map<string, typeof decisions>();
  for (const d of decisions) {
    const list = byRule.get(d.rule.name) ?? [];
    list.push(d);
    byRule.set(d.rule.name, list);
  }
  // Turns are taken rule by rule in name order: transactions routing at once lock the same rules'
  // rows in the same order, so they cannot deadlock.
  for (const [name, list] of [...byRule].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const first = list[0];
    if (!first) continue;
    // A single-user rule needs no turn; a rotation takes as many turns as it gives leads.
    const start =
      first.rule.target.kind === "round_robin"
        ? await takeTurns(tx, { rule: name, n: list.length })
        : 0;
    list.forEach((d, i) => {
      const crossing = crossings[d.index];
      const owner = ownerForTurn(d.available, start + i);
      if (crossing && owner)
        routed.set(crossing.leadId, { leadId: crossing.leadId, owner, rule: name });
    });
  }
  await writeRoutedOwners(tx, { assignments: [...routed.values()], at });
  return routed;
}

async function requireAdmin(db: DbOrTx, by: string, admins: readonly string[]): Promise<void> {
  if ((await roleOf(db, by, admins)) !== "admin") {
    throw new ForbiddenError("Only admins change routing rules. Ask an admin.");
  }
}

export interface ApplyResult {
  rules: RoutingRule[];
  /** Names of the rules before the change. */
  previous: string[];
}

/**
 * Replaces the rules with those in a YAML (or JSON) text; audited. Admins only, except the
 * operator's shell (`leadbot routing apply`), which holds the database already.
 */
export async function applyRoutingText(
  db: Db,
  p: { text: string; by: string; admins: readonly string[]; operator?: boolean | undefined },
): Promise<ApplyResult> {
  if (!p.operator) await requireAdmin(db, p.by, p.admins);
  let rules: RoutingRule[];
  try {
    rules = parseRoutingText(p.text);
  } catch (err) {
    if (err instanceof RoutingFileError) throw new InvalidInputError(err.message);
    throw err;
  }
  return db.transaction(async (tx) => {
    const previous = (await loadRules(tx)).map((r) => r.name);
    await replaceRoutingRules(tx, {
      rules: rules.map((r) => ({ name: r.name, conditions: r.when, target: r.target })),
      by: p.by,
    });
    await insertAudit(tx, {
      actor: p.by,
      action: "routing.applied",
      subject: "routing",
      details: { rules, previous },
    });
    return { rules, previous };
  });
}

export interface RoutingOverview {
  rules: RoutingRule[];
  yaml: string;
  /** Assignments this (ISO) week by owner, split by how they came. */
  shares: { owner: string; rule: number; claim: number; person: number }[];
  away: { userId: string; until: Date }[];
  weekStart: Date;
}

export async function routingOverview(db: DbOrTx, now: number): Promise<RoutingOverview> {
  const weekStart = startOfISOWeek(new Date(now));
  const [rules, rows, away] = await Promise.all([
    loadRules(db),
    assignmentShares(db, { since: weekStart }),
    awayList(db, { at: new Date(now) }),
  ]);
  const byOwner = new Map<string, { owner: string; rule: number; claim: number; person: number }>();
  for (const r of rows) {
    const s = byOwner.get(r.owner) ?? { owner: r.owner, rule: 0, claim: 0, person: 0 };
    s[r.source] += r.n;
    byOwner.set(r.owner, s);
  }
  const shares = [...byOwner.values()].sort(
    (a, b) => b.rule + b.claim + b.person - (a.rule + a.claim + a.person),
  );
  return { rules, yaml: routingText(rules), shares, away, weekStart };
}

/** Marks `userId` away until the date (null: back now); routing skips them meanwhile. */
export async function setAway(
  db: Db,
  p: { userId: string; until: Date | null; by: string; now: number },
): Promise<void> {
  if (p.until && p.until.getTime() <= p.now) {
    throw new InvalidInputError("The date is in the past: give a day still to come, or `off`.");
  }
  await db.transaction(async (tx) => {
    if (p.until) await setAwayRow(tx, { userId: p.userId, until: p.until, by: p.by });
    else await clearAway(tx, { userId: p.userId });
    await insertAudit(tx, {
      actor: p.by,
      action: p.until ? "user.away" : "user.back",
      subject: `user:${p.userId}`,
      details: { until: p.until?.toISOString() ?? null },
    });
  });
}

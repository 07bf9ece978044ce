import { asc, desc, eq, sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";
import { leadAssignments, routingRules, userAway } from "../schema.js";

export interface RoutingRuleRow {
  position: number;
  name: string;
  conditions: unknown[];
  target: Record<string, unknown>;
  updatedBy: string;
  updatedAt: Date;
}

export function routingRuleRows(db: DbOrTx): Promise<RoutingRuleRow[]> {
  return db.select().from(routingRules).orderBy(asc(routingRules.position));
}

export interface ReplaceRulesParams {
  rules: readonly { name: string; conditions: unknown[]; target: Record<string, unknown> }[];
  by: string;
}

/** Replaces the whole ordered list: rules are edited as one file. */
export async function replaceRoutingRules(tx: DbOrTx, p: ReplaceRulesParams): Promise<void> {
  await tx.delete(routingRules);
  if (p.rules.length === 0) return;
  await tx.insert(routingRules).values(
    p.rules.map((r, i) => ({
      position: i + 1,
      name: r.name,
      conditions: r.conditions,
      target: r.target,
      updatedBy: p.by,
    })),
  );
}

/** People away at `at`. */
export async function awayUserIds(db: DbOrTx, p: { at: Date }): Promise<string[]> {
  const rows = await execRows<{ user_id: string }>(
    db,
    sql`select user_id from user_away where until > ${p.at.toISOString()}::timestamptz`,
  );
  return rows.map((r) => r.user_id);
}

export async function awayList(db: DbOrTx, p: { at: Date }) {
  return db
    .select({ userId: userAway.userId, until: userAway.until })
    .from(userAway)
    .where(sql`${userAway.until} > ${p.at.toISOString()}::timestamptz`)
    .orderBy(asc(userAway.until));
}

export async function setAway(
  db: DbOrTx,
  p: { userId: string; until: Date; by: string },
): Promise<void> {
  await db
    .insert(userAway)
    .values({ userId: p.userId, until: p.until, setBy: p.by })
    .onConflictDoUpdate({
      target: userAway.userId,
      set: { until: p.until, setBy: p.by, setAt: new Date() },
    });
}

export async function clearAway(db: DbOrTx, p: { userId: string }): Promise<void> {
  await db.delete(userAway).where(eq(userAway.userId, p.userId));
}

/**
 * Takes `n` consecutive turns of a rule's rotation in one statement and returns the first. The
 * row lock of the upsert orders instances on one Postgres; the count survives restarts.
 */
export async function takeTurns(tx: DbOrTx, p: { rule: string; n: number }): Promise<number> {
  const [row] = await execRows<{ turns: string | number }>(
    tx,
    sql`insert into routing_turns (rule, turns) values (${p.rule}, ${p.n})
        on conflict (rule) do update set turns = routing_turns.turns + excluded.turns
        returning turns`,
  );
  return Number(row?.turns ?? p.n) - p.n;
}

export interface RoutedAssignment {
  leadId: number;
  owner: string;
  rule: string;
}

/** Gives routed leads their owners and records how, in one statement. */
export async function writeRoutedOwners(
  tx: DbOrTx,
  p: { assignments: readonly RoutedAssignment[]; at: string },
): Promise<void> {
  if (p.assignments.length === 0) return;
  await tx.execute(sql`
    with a as (
      select * from json_to_recordset(${JSON.stringify(p.assignments)}::json)
        as a("leadId" bigint, owner text, rule text)
    ), updated as (
      update leads l set owner = a.owner, updated_at = ${p.at}::timestamptz
      from a where l.id = a."leadId" and l.owner is null
      returning l.id
    )
    insert into lead_assignments (lead_id, owner, previous, source, rule, by_user, at)
    select a."leadId", a.owner, null, 'rule', a.rule, 'routing', ${p.at}::timestamptz
    from a join updated on updated.id = a."leadId"`);
}

export async function insertAssignment(
  tx: DbOrTx,
  p: {
    leadId: number;
    owner: string;
    previous: string | null;
    source: "claim" | "person";
    by: string;
  },
): Promise<void> {
  await tx.insert(leadAssignments).values({
    leadId: p.leadId,
    owner: p.owner,
    previous: p.previous,
    source: p.source,
    byUser: p.by,
  });
}

export async function latestAssignment(db: DbOrTx, p: { leadId: number }) {
  const [row] = await db
    .select({
      owner: leadAssignments.owner,
      source: leadAssignments.source,
      rule: leadAssignments.rule,
      by: leadAssignments.byUser,
      at: leadAssignments.at,
    })
    .from(leadAssignments)
    .where(eq(leadAssignments.leadId, p.leadId))
    .orderBy(desc(leadAssignments.at), desc(leadAssignments.id))
    .limit(1);
  return row;
}

export interface ShareRow {
  owner: string;
  source: "rule" | "claim" | "person";
  n: number;
}

/** Assignments since `since`, by owner and how they came. */
export function assignmentShares(db: DbOrTx, p: { since: Date }): Promise<ShareRow[]> {
  return execRows<ShareRow>(
    db,
    sql`select owner, source, count(*)::int as n from lead_assignments
        where at >= ${p.since.toISOString()}::timestamptz
        group by owner, source order by owner, source`,
  );
}

import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";
import { idArray } from "./ids.js";

export interface TeamCounts {
  lead: number;
  mql: number;
  sql: number;
  won: number;
  lost: number;
  not_a_fit: number;
  mqls: number;
  mql_won: number;
  pending: number;
}

/** Leads by stage, outcomes since `since`, MQL → won and pending alerts, in one statement. */
export async function teamCounts(db: DbOrTx, p: { since: Date }): Promise<TeamCounts> {
  const since = p.since.toISOString();
  const [row] = await execRows<Record<string, number>>(
    db,
    sql`
    select
      (select count(*)::int from lead_scores where stage = 'lead') as lead,
      (select count(*)::int from lead_scores where stage = 'mql') as mql,
      (select count(*)::int from lead_scores where stage = 'sql') as sql,
      (select count(*)::int from outcomes where outcome = 'won' and created_at >= ${since}::timestamptz) as won,
      (select count(*)::int from outcomes where outcome = 'lost' and created_at >= ${since}::timestamptz) as lost,
      (select count(*)::int from outcomes where outcome = 'not_a_fit' and created_at >= ${since}::timestamptz) as not_a_fit,
      (select count(distinct lead_id)::int from stage_transitions where to_stage in ('mql', 'sql')) as mqls,
      (select count(distinct o.lead_id)::int from outcomes o
         where o.outcome = 'won' and exists (select 1 from stage_transitions t
           where t.lead_id = o.lead_id and t.to_stage in ('mql', 'sql'))) as mql_won,
      (select count(*)::int from alert_outbox where status = 'pending') as pending
  `,
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    lead: n("lead"),
    mql: n("mql"),
    sql: n("sql"),
    won: n("won"),
    lost: n("lost"),
    not_a_fit: n("not_a_fit"),
    mqls: n("mqls"),
    mql_won: n("mql_won"),
    pending: n("pending"),
  };
}

/** Whether the database answers. */
export async function ping(db: DbOrTx): Promise<void> {
  await db.execute(sql`select 1`);
}

/** A lead with an outcome in the period: the score and stage path the metrics read. */
export interface OutcomeExampleRow {
  lead_id: number;
  outcome: "won" | "lost" | "not_a_fit";
  reason: string | null;
  /** Epoch ms of the outcome. */
  outcome_at: number;
  /** The score when the outcome was recorded: the last history row at or before it. */
  total: number | null;
  fit: number | null;
  engagement: number | null;
  model_version: number | null;
  /** Epoch ms of the first crossing into MQL (or SQL) and into SQL. */
  mql_at: number | null;
  sql_at: number | null;
}

/**
 * Each lead's latest outcome in the period (unless a later reopen undid it), with its score at
 * that moment from the score history and its first MQL and SQL times, in one statement: the
 * lateral joins walk the (lead_id, at) indexes once per outcome, never a query per lead.
 */
export function outcomeExamples(
  db: DbOrTx,
  p: { since: Date | null; until: Date },
): Promise<OutcomeExampleRow[]> {
  const since = p.since ? sql`o.created_at >= ${p.since.toISOString()}::timestamptz` : sql`true`;
  return execRows<OutcomeExampleRow>(
    db,
    sql`
    with latest as (
      select distinct on (o.lead_id) o.lead_id, o.outcome, o.reason, o.created_at,
        o.score_at_outcome, o.model_version
      from outcomes o
      where ${since} and o.created_at <= ${p.until.toISOString()}::timestamptz
      order by o.lead_id, o.created_at desc, o.id desc
    )
    select l.lead_id::int as lead_id, l.outcome, l.reason,
      date_part('epoch', l.created_at) * 1000 as outcome_at,
      coalesce(h.total, l.score_at_outcome) as total, h.fit, h.engagement,
      coalesce(h.model_version, l.model_version) as model_version,
      date_part('epoch', st.mql_at) * 1000 as mql_at,
      date_part('epoch', st.sql_at) * 1000 as sql_at
    from latest l
    left join lead_closures c on c.lead_id = l.lead_id
    left join lateral (
      select h.total, h.fit, h.engagement, h.model_version from score_history h
      where h.lead_id = l.lead_id and h.at <= l.created_at
      order by h.at desc, h.id desc limit 1
    ) h on true
    left join lateral (
      select min(t.at) filter (where t.to_stage in ('mql', 'sql')) as mql_at,
        min(t.at) filter (where t.to_stage = 'sql') as sql_at
      from stage_transitions t where t.lead_id = l.lead_id
    ) st on true
    where not (c.state is not distinct from 'reopened' and c.at > l.created_at)
    order by l.lead_id`,
  );
}

/** Leads of the period without an outcome in it, counted by how far they got. */
export interface OpenLeadCount {
  reached_mql: boolean;
  reached_sql: boolean;
  n: number;
}

/**
 * Leads created in the period that have no outcome in it, grouped by whether they ever reached
 * MQL and SQL: the rest of the funnel, and the leads still waiting for an outcome.
 */
export function openLeadCounts(
  db: DbOrTx,
  p: { since: Date | null; until: Date },
): Promise<OpenLeadCount[]> {
  const since = p.since ? p.since.toISOString() : null;
  const created = since ? sql`l.created_at >= ${since}::timestamptz` : sql`true`;
  const outcomeSince = since ? sql`o.created_at >= ${since}::timestamptz` : sql`true`;
  return execRows<OpenLeadCount>(
    db,
    sql`
    with reached as (
      select lead_id, bool_or(to_stage in ('mql', 'sql')) as mql, bool_or(to_stage = 'sql') as sql
      from stage_transitions group by lead_id
    )
    select coalesce(r.mql, false) as reached_mql, coalesce(r.sql, false) as reached_sql,
      count(*)::int as n
    from leads l
    left join reached r on r.lead_id = l.id
    where ${created}
      and not exists (select 1 from outcomes o where o.lead_id = l.id and ${outcomeSince}
        and o.created_at <= ${p.until.toISOString()}::timestamptz)
    group by 1, 2`,
  );
}

/** Model versions with their grade and level bands, for the grade × level of past scores. */
export function modelBands(
  db: DbOrTx,
  p: { versions: readonly number[] },
): Promise<{ version: number; grades: unknown; levels: unknown }[]> {
  if (p.versions.length === 0) return Promise.resolve([]);
  return execRows(
    db,
    sql`select version, definition->'grades' as grades, definition->'levels' as levels
        from models where version = any(${idArray(p.versions)})`,
  );
}

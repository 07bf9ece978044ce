import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

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

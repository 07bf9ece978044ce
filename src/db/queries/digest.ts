import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

/** What the weekly digest and the daily reminders read. */

export interface WeekCounts {
  mqls: number;
  sqls: number;
  won: number;
  lost: number;
  not_a_fit: number;
}

/** New MQLs and SQLs (leads that first crossed into them) and outcomes in [since, until). */
export async function weekCounts(db: DbOrTx, p: { since: Date; until: Date }): Promise<WeekCounts> {
  const since = p.since.toISOString();
  const until = p.until.toISOString();
  const [row] = await execRows<Record<string, number>>(
    db,
    sql`select
      (select count(distinct lead_id)::int from stage_transitions
        where to_stage = 'mql' and at >= ${since}::timestamptz and at < ${until}::timestamptz) as mqls,
      (select count(distinct lead_id)::int from stage_transitions
        where to_stage = 'sql' and at >= ${since}::timestamptz and at < ${until}::timestamptz) as sqls,
      (select count(*)::int from outcomes where outcome = 'won'
        and created_at >= ${since}::timestamptz and created_at < ${until}::timestamptz) as won,
      (select count(*)::int from outcomes where outcome = 'lost'
        and created_at >= ${since}::timestamptz and created_at < ${until}::timestamptz) as lost,
      (select count(*)::int from outcomes where outcome = 'not_a_fit'
        and created_at >= ${since}::timestamptz and created_at < ${until}::timestamptz) as not_a_fit`,
  );
  const n = (k: string) => Number(row?.[k] ?? 0);
  return {
    mqls: n("mqls"),
    sqls: n("sqls"),
    won: n("won"),
    lost: n("lost"),
    not_a_fit: n("not_a_fit"),
  };
}

/** Each lead's latest outcome before `until` with the score it closed at. */
export function labelledScores(db: DbOrTx, p: { until: Date }) {
  return execRows<{ score: number; won: boolean; at: number }>(
    db,
    sql`select distinct on (lead_id) coalesce(score_at_outcome, 0)::float8 as score,
          outcome = 'won' as won, (date_part('epoch', created_at) * 1000)::float8 as at
        from outcomes where created_at < ${p.until.toISOString()}::timestamptz
        order by lead_id, created_at desc, id desc`,
  );
}

export interface StaleAlertRow {
  alert_id: number;
  lead_id: number;
  owner: string;
  stage: string;
  email: string | null;
  name: string | null;
  company: string | null;
  score: number | null;
  /** Epoch ms the alert was raised. */
  at: number;
}

/**
 * Alerts delivered before `before` whose lead has an owner and no outcome recorded since the
 * alert: what the owner is reminded of, newest first per owner.
 */
export function staleAlerts(db: DbOrTx, p: { before: Date; limit: number }) {
  return execRows<StaleAlertRow>(
    db,
    sql`select a.id::int as alert_id, a.lead_id::int as lead_id, l.owner, a.stage, l.email,
          nullif(trim(concat_ws(' ', l.first_name, l.last_name)), '') as name, l.company,
          s.total as score, (date_part('epoch', a.created_at) * 1000)::float8 as at
        from alert_outbox a
        join leads l on l.id = a.lead_id
        left join lead_scores s on s.lead_id = a.lead_id
        where a.status = 'sent' and a.created_at < ${p.before.toISOString()}::timestamptz
          and l.owner is not null
          and not exists (select 1 from outcomes o where o.lead_id = a.lead_id and o.created_at >= a.created_at)
          and a.id = (select max(a2.id) from alert_outbox a2 where a2.lead_id = a.lead_id)
        order by l.owner, a.created_at desc
        limit ${p.limit}`,
  );
}

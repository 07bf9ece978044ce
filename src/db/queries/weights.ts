import { type SQL, sql } from "drizzle-orm";
import { ENGAGEMENT_CAP_RULE, FIT_CAP_RULE } from "../../core/engine.js";
import type { Stage } from "../../core/model.js";
import { type DbOrTx, execRows } from "../client.js";

/** JS Math.round(x * 100) / 100 exactly: Math.round is not floor(x + 0.5) at every double. */
function round2(x: SQL): SQL {
  return sql`((floor((${x}) * 100) + case when (${x}) * 100 - floor((${x}) * 100) >= 0.5 then 1 else 0 end) / 100)`;
}

export interface PointUpdateParams {
  modelKey: string;
  /** The model version the rewritten rows are scored by. */
  version: number;
  /** The rules whose points changed: [rule id, group, label, new points]. */
  changes: readonly (readonly [string, "fit" | "engagement", string, number])[];
  /** Every breakdown rule id of the model (rules, caps, inactivity) in breakdown order. */
  order: readonly string[];
  fitCap: number;
  fitCapLabel: string;
  engagementCap: number;
  engagementCapLabel: string;
  grades: { A: number; B: number; C: number };
  levels: { "1": number; "2": number; "3": number };
  thresholds: { mql: number; sql: number; hysteresis: number };
  /** Positive decaying rules of the new model: [rule id, points, half-life in ms]. */
  decaying: readonly (readonly [string, number, number])[];
  /** The due-time constants of nextDueAt: tolerance, line rounding, longest wait in ms. */
  due: { tolerance: number; lineRounding: number; maxMs: number };
  /** ISO time of the change: history and crossings are stamped with it. */
  at: string;
}

export interface PointUpdateResult {
  /** Leads the changed rules apply to. */
  scored: number;
  /** Of those, leads whose score moved. */
  changed: number;
  crossings: {
    lead_id: number;
    from_stage: Stage;
    to_stage: Stage;
    total: number;
    owner: string | null;
  }[];
}

/**
 * A change of points, applied to every lead of a model that a changed rule applies to in one
 * statement: each changed line is rescaled from the stored per-rule decay (or is the new points,
 * for a fit rule), the other lines are kept, and the caps, totals, grade, level, stage (with
 * hysteresis), breakdown order and due time are recomputed exactly as the scorer computes them
 * (see score and nextDueAt). Rows keep their `scored_at`: each equals a full rescore at that
 * time. Leads are locked in id order first, as the scorer locks them, so the two cannot deadlock.
 * Writes the rows and their history; returns the stage crossings for the caller to record.
 */
export async function applyPointChanges(
  tx: DbOrTx,
  p: PointUpdateParams,
): Promise<PointUpdateResult> {
  const changes = JSON.stringify(p.changes);
  const order = JSON.stringify(Object.fromEntries(p.order.map((id, i) => [id, i])));
  const engIds = p.changes.filter((c) => c[1] === "engagement").map((c) => c[0]);
  const fitIds = p.changes.filter((c) => c[1] === "fit").map((c) => c[0]);
  const touches: SQL[] = [];
  if (engIds.length > 0)
    touches.push(
      sql`s.decay ?| array(select json_array_elements_text(${JSON.stringify(engIds)}::json))`,
    );
  for (const id of fitIds)
    touches.push(sql`s.breakdown @> ${JSON.stringify([{ ruleId: id }])}::jsonb`);
  const { mql, sql: sqlT, hysteresis: h } = p.thresholds;
  const g = p.grades;
  const lv = p.levels;
  const r2 = round2;
  // Stored lines rewritten below: the changed rules' and the caps'.
  const dropped = sql`array(select jsonb_array_elements_text(${JSON.stringify([
    FIT_CAP_RULE,
    ENGAGEMENT_CAP_RULE,
    ...p.changes.map((c) => c[0]),
  ])}::jsonb))`;
  // Like the rescan baseline: sorts and aggregates of this size stay in memory, and the wide
  // statement is not worth compiling (JIT took a second of it on PG 15).
  await tx.execute(sql`set local work_mem = '64MB'`);
  await tx.execute(sql`set local jit = off`);
  const rows = await execRows<{
    kind: string;
    n: number;
    lead_id: number;
    from_stage: Stage;
    to_stage: Stage;
    total: number;
    owner: string | null;
  }>(
    tx,
    sql`with c as (
        select x->>0 as rule_id, x->>1 as grp, x->>2 as label, (x->>3)::float8 as points
        from jsonb_array_elements(${changes}::jsonb) x
      ), dk as (
        select x->>0 as rule_id, (x->>1)::float8 as points, (x->>2)::float8 as half_ms
        from jsonb_array_elements(${JSON.stringify(p.decaying)}::jsonb) x
      ), target as materialized (
        select s.lead_id, s.breakdown, s.decay, s.stage, s.total, s.scored_at, s.next_due_at
        from lead_scores s
        where s.model_key = ${p.modelKey} and (${sql.join(touches, sql` or `)})
        order by s.lead_id
        for no key update
      ), lines as (
        select t.lead_id, l.entry, l.entry->>'group' as grp,
          l.entry->>'ruleId' = 'inactivity' as inactivity, (l.entry->>'points')::float8 as pts,
          (${order}::jsonb->>(l.entry->>'ruleId'))::int as ord
        from target t cross join lateral (
          select e.value as entry from jsonb_array_elements(t.breakdown) e
          where e.value->>'ruleId' <> all (${dropped})
          union all
          select jsonb_build_object('ruleId', c.rule_id, 'label', c.label,
              'group', 'engagement', 'count', (t.decay->c.rule_id->>0)::int,
              'basePoints', ${r2(sql`c.points * (t.decay->c.rule_id->>0)::float8`)},
              'points', ${r2(sql`c.points * (t.decay->c.rule_id->>1)::float8`)})
          from c where c.grp = 'engagement' and t.decay ? c.rule_id
          union all
          select jsonb_build_object('ruleId', c.rule_id, 'label', c.label,
              'group', 'fit', 'count', 1, 'basePoints', ${r2(sql`c.points`)},
              'points', ${r2(sql`c.points`)})
          from c where c.grp = 'fit'
            and t.breakdown @> jsonb_build_array(jsonb_build_object('ruleId', c.rule_id))
        ) l
        where (l.entry->>'points')::float8 <> 0
      ), sums as materialized (
        select lead_id,
          ${r2(sql`coalesce(sum(pts) filter (where grp = 'fit' and pts > 0), 0)`)} as fit_pos,
          coalesce(sum(pts) filter (where grp = 'fit' and pts < 0), 0) as fit_neg,
          ${r2(sql`coalesce(sum(pts) filter (where grp = 'engagement' and pts > 0), 0)`)} as eng_pos,
          coalesce(sum(pts) filter (where grp = 'engagement' and pts < 0), 0) as eng_neg,
          count(*) filter (where grp = 'fit')::int as fit_lines,
          count(*) filter (where grp = 'engagement' and not inactivity)::int as eng_lines,
          jsonb_agg(entry order by ord) as lines
        from lines group by lead_id
      ), scored as (
        select t.lead_id, t.stage as previous, t.total as old_total, t.decay, t.scored_at,
          t.next_due_at, coalesce(x.fit_pos, 0) as fit_pos, coalesce(x.eng_pos, 0) as eng_pos,
          ${r2(sql`least(coalesce(x.fit_pos, 0), ${p.fitCap}::float8) + coalesce(x.fit_neg, 0)`)} as fit,
          ${r2(sql`least(coalesce(x.eng_pos, 0), ${p.engagementCap}::float8) + coalesce(x.eng_neg, 0)`)}
            as engagement,
          -- The breakdown in the scorer's order, the cap lines where the scorer puts them.
          case when x.fit_pos > ${p.fitCap}::float8 then jsonb_build_array(jsonb_build_object(
              'ruleId', 'fit_cap', 'label', ${p.fitCapLabel}::text, 'group', 'fit', 'count', 1,
              'basePoints', ${r2(sql`${p.fitCap}::float8 - x.fit_pos`)},
              'points', ${r2(sql`${p.fitCap}::float8 - x.fit_pos`)})) end as fit_cap,
          case when x.eng_pos > ${p.engagementCap}::float8 then jsonb_build_array(jsonb_build_object(
              'ruleId', 'engagement_cap', 'label', ${p.engagementCapLabel}::text,
              'group', 'engagement', 'count', 1,
              'basePoints', ${r2(sql`${p.engagementCap}::float8 - x.eng_pos`)},
              'points', ${r2(sql`${p.engagementCap}::float8 - x.eng_pos`)})) end as eng_cap,
          coalesce(x.lines, '[]') as lines, coalesce(x.fit_lines, 0) as fit_lines,
          coalesce(x.eng_lines, 0) as eng_lines
        from target t left join sums x on x.lead_id = t.lead_id
      ), totals as materialized (
        select x.*, ${r2(sql`x.fit + x.engagement`)} as total,
          -- The breakdown in the scorer's order: each cap line after its group's rule lines.
          case when x.fit_cap is null and x.eng_cap is null then x.lines
            else (select coalesce(jsonb_agg(v.value order by v.n), '[]') from (
              select e.value, e.n + case when x.fit_cap is not null and e.n > x.fit_lines then 1 else 0 end
                + case when x.eng_cap is not null and e.n > x.fit_lines + x.eng_lines then 1 else 0 end as n
              from jsonb_array_elements(x.lines) with ordinality e(value, n)
              union all select x.fit_cap->0, x.fit_lines + 1 where x.fit_cap is not null
              union all select x.eng_cap->0,
                x.fit_lines + x.eng_lines + 1 + case when x.fit_cap is not null then 1 else 0 end
              where x.eng_cap is not null) v)
          end as breakdown
        from scored x
      ), staged as (
        select x.*,
          case when x.fit >= ${g.A} then 'A' when x.fit >= ${g.B} then 'B'
            when x.fit >= ${g.C} then 'C' else 'D' end as grade,
          case when x.engagement >= ${lv["1"]} then 1 when x.engagement >= ${lv["2"]} then 2
            when x.engagement >= ${lv["3"]} then 3 else 4 end as level,
          case
            when x.total >= ${sqlT} then 'sql'
            when x.total >= ${mql} and x.previous <> 'sql' then 'mql'
            when x.previous = 'sql' and x.total >= ${sqlT - h} then 'sql'
            when x.previous in ('sql', 'mql') and x.total >= ${mql - h} then 'mql'
            when x.total >= ${mql} then 'mql'
            else 'lead'
          end as stage,
          a.slop, b.rate
        from totals x
        cross join lateral (select ${p.due.lineRounding}::float8 * (count(*) + 2) as slop
          from jsonb_object_keys(x.decay)) a
        cross join lateral (select sum(dk.points * (x.decay->dk.rule_id->>1)::float8 * ln(2) / dk.half_ms)
          as rate from dk where x.decay ? dk.rule_id) b
      ), due as (
        select x.*, case when coalesce(x.rate, 0) <= 0 then x.next_due_at else least(x.next_due_at,
          x.scored_at + make_interval(secs => least(${p.due.maxMs}::float8,
            greatest(0, least(${p.due.tolerance}::float8 - 2 * x.slop,
              case x.stage when 'sql' then x.total - ${sqlT - h} - 2 * x.slop
                when 'mql' then x.total - ${mql - h} - 2 * x.slop else 'infinity'::float8 end)
              + greatest(0, x.eng_pos - ${p.engagementCap}::float8 - x.slop)) / x.rate) / 1000)) end
          as due_at
        from staged x
      ), written as (
        update lead_scores s set total = x.total, fit = x.fit, engagement = x.engagement,
          grade = x.grade, level = x.level, stage = x.stage, breakdown = x.breakdown,
          model_version = ${p.version}, next_due_at = x.due_at
        from due x
        where s.lead_id = x.lead_id
        returning s.lead_id
      ), history as (
        insert into score_history (lead_id, at, total, fit, engagement, stage, model_version, cause)
        select lead_id, ${p.at}::timestamptz, total, fit, engagement, stage, ${p.version}, 'model'
        from due where total <> old_total or stage <> previous
      )
      select 'count' as kind, (select count(*) from written)::int as n, null::int as lead_id,
        null as from_stage, null as to_stage, null::float8 as total, null as owner
      union all
      select 'changed', (select count(*) from due where total <> old_total or stage <> previous)::int,
        null, null, null, null, null
      union all
      select 'crossing', 0, d.lead_id::int, d.previous, d.stage, d.total, l.owner
      from due d join leads l on l.id = d.lead_id
      where d.stage <> d.previous`,
  );
  const result: PointUpdateResult = { scored: 0, changed: 0, crossings: [] };
  for (const r of rows) {
    if (r.kind === "count") result.scored = r.n;
    else if (r.kind === "changed") result.changed = r.n;
    else
      result.crossings.push({
        lead_id: r.lead_id,
        from_stage: r.from_stage,
        to_stage: r.to_stage,
        total: r.total,
        owner: r.owner,
      });
  }
  return result;
}

/** Whether every scored lead of a model keeps per-rule decay (rows from before it do not). */
export async function allKeepDecay(db: DbOrTx, p: { modelKey: string }): Promise<boolean> {
  const [row] = await execRows<{ missing: boolean }>(
    db,
    sql`select exists (select 1 from lead_scores where model_key = ${p.modelKey} and decay is null)
        as missing`,
  );
  return row?.missing === false;
}

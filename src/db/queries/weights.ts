import { type SQL, sql } from "drizzle-orm";
import type { Stage } from "../../core/model.js";
import { type DbOrTx, execRows } from "../client.js";

/** JS Math.round(x * 100) / 100 exactly: Math.round is not floor(x + 0.5) at every double. */
function round2(x: SQL): SQL {
  return sql`((floor((${x}) * 100) + case when (${x}) * 100 - floor((${x}) * 100) >= 0.5 then 1 else 0 end) / 100)`;
}

export interface PointUpdateParams {
  modelKey: string;
  /** Lead ids from `fromId` (inclusive) to `toId` (exclusive): one slice of the model's leads. */
  fromId: number;
  toId: number;
  /** The model version the rewritten rows are scored by. */
  version: number;
  /** The rules whose points changed: [rule id, group, points before, points after]. */
  changes: readonly (readonly [string, "fit" | "engagement", number, number])[];
  fitCap: number;
  engagementCap: number;
  grades: { A: number; B: number; C: number };
  levels: { "1": number; "2": number; "3": number };
  thresholds: { mql: number; sql: number; hysteresis: number };
  /** Every engagement rule id of the model: the keys a lead's decay can hold. */
  engagementRules: readonly string[];
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
  /** Of those, leads whose score, stage or lines moved. */
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
 * statement. Each changed rule moves the stored group sums (GroupSums) by its line's difference:
 * a fit line is its points, an engagement line its points times the stored decay factors, both
 * rounded as the scorer rounds them. The caps, totals, grade, level, stage (with hysteresis) and
 * due time follow from the sums exactly as the scorer computes them (see scoreDetailed and
 * nextDueAt). Rows keep their `scored_at`: each equals a full rescore at that time.
 *
 * The stored lines are not rewritten: they keep the version whose points they carry in
 * `lines_version`, and readers rescale them (rescaledBreakdown). Writing only narrow columns is
 * what makes a change of a rule most leads have cheap: the rows' breakdowns are most of their
 * width. Leads are locked in id order first, as the scorer locks them, so the two cannot
 * deadlock. Writes the rows and their history; returns the stage crossings for the caller.
 */
export async function applyPointChanges(
  tx: DbOrTx,
  p: PointUpdateParams,
): Promise<PointUpdateResult> {
  const r2 = round2;
  const engIds = p.changes.filter((c) => c[1] === "engagement").map((c) => c[0]);
  const fitIds = p.changes.filter((c) => c[1] === "fit").map((c) => c[0]);
  const touches: SQL[] = [];
  if (engIds.length > 0)
    touches.push(
      sql`s.decay ?| array(select json_array_elements_text(${JSON.stringify(engIds)}::json))`,
    );
  for (const id of fitIds)
    touches.push(sql`s.breakdown @> ${JSON.stringify([{ ruleId: id }])}::jsonb`);

  // Each changed rule's line before and after, as of the row's scoring (0 where it has none).
  const lines = p.changes.flatMap((c, i) => {
    const [id, group, from, to] = c;
    const n = sql.raw(String(i));
    if (group === "fit") {
      const has = sql`s.breakdown @> ${JSON.stringify([{ ruleId: id }])}::jsonb`;
      return [
        sql`case when ${has} then ${r2(sql`${from}::float8`)} else 0 end as o${n}`,
        sql`case when ${has} then ${r2(sql`${to}::float8`)} else 0 end as n${n}`,
      ];
    }
    const factors = sql`coalesce((s.decay->${id}::text->>1)::float8, 0)`;
    return [
      sql`${r2(sql`${from}::float8 * ${factors}`)} as o${n}`,
      sql`${r2(sql`${to}::float8 * ${factors}`)} as n${n}`,
    ];
  });
  // What the changed lines move one group sum by: fit or engagement, points above or below zero
  // (a change of points keeps the sign).
  const moved = (group: "fit" | "engagement", positive: boolean): SQL => {
    const parts = p.changes.flatMap((c, i) =>
      c[1] === group && c[3] > 0 === positive
        ? [sql` + (x.${sql.raw(`n${i}`)} - x.${sql.raw(`o${i}`)})`]
        : [],
    );
    return parts.length === 0 ? sql`` : sql.join(parts, sql``);
  };
  const lineMoved = sql.join(
    p.changes.map((_, i) => sql`x.${sql.raw(`n${i}`)} <> x.${sql.raw(`o${i}`)}`),
    sql` or `,
  );
  const { mql, sql: sqlT, hysteresis: h } = p.thresholds;
  const g = p.grades;
  const lv = p.levels;
  const keyCount = sql.join(
    p.engagementRules.map((id) => sql`(case when s.decay ? ${id}::text then 1 else 0 end)`),
    sql` + `,
  );
  const rate =
    p.decaying.length === 0
      ? sql`0::float8`
      : sql.join(
          p.decaying.map(
            ([id, points, halfMs]) =>
              sql`coalesce((s.decay->${id}::text->>1)::float8 * ${(points * Math.LN2) / halfMs}::float8, 0)`,
          ),
          sql` + `,
        );
  // Each step is a subquery the planner may not pull up (offset 0): round2 repeats its argument,
  // and steps inlined into one another would repeat every step below them several times over.
  // Like the rescan baseline: each step's rows stay in memory, and the wide statement is not worth
  // compiling (JIT took a second of it on PG 15).
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
    sql`with target as materialized (
        select s.lead_id, s.stage as previous, s.total as old_total, s.scored_at, s.next_due_at,
          s.sums, ${sql.join(lines, sql`, `)},
          ${p.due.lineRounding}::float8 * (${keyCount} + 2) as slop, ${rate} as rate
        from lead_scores s
        where s.lead_id >= ${p.fromId} and s.lead_id < ${p.toId} and s.model_key = ${p.modelKey}
          -- A lead the scorer already scored with this version (or a later one) has its points.
          and s.model_version < ${p.version}
          and s.sums is not null and s.decay is not null
          and (${sql.join(touches, sql` or `)})
        order by s.lead_id
        for no key update
      ), timed as materialized (
        select x.lead_id, x.previous, x.old_total, (${lineMoved}) as line_moved, a.fit_pos,
          a.fit_neg, a.eng_pos, a.eng_neg, b.fit, b.engagement, c.total, c.grade, c.level,
          d.stage, e.due_at
        from target x
        cross join lateral (select
          ${r2(sql`x.sums[1]${moved("fit", true)}`)} as fit_pos,
          ${r2(sql`x.sums[2]${moved("fit", false)}`)} as fit_neg,
          ${r2(sql`x.sums[3]${moved("engagement", true)}`)} as eng_pos,
          ${r2(sql`x.sums[4]${moved("engagement", false)}`)} as eng_neg
          offset 0) a
        cross join lateral (select
          ${r2(sql`least(a.fit_pos, ${p.fitCap}::float8) + a.fit_neg`)} as fit,
          ${r2(sql`least(a.eng_pos, ${p.engagementCap}::float8) + a.eng_neg`)} as engagement
          offset 0) b
        cross join lateral (select ${r2(sql`b.fit + b.engagement`)} as total,
          case when b.fit >= ${g.A} then 'A' when b.fit >= ${g.B} then 'B'
            when b.fit >= ${g.C} then 'C' else 'D' end as grade,
          case when b.engagement >= ${lv["1"]} then 1 when b.engagement >= ${lv["2"]} then 2
            when b.engagement >= ${lv["3"]} then 3 else 4 end as level
          offset 0) c
        cross join lateral (select case
            when c.total >= ${sqlT} then 'sql'
            when c.total >= ${mql} and x.previous <> 'sql' then 'mql'
            when x.previous = 'sql' and c.total >= ${sqlT - h} then 'sql'
            when x.previous in ('sql', 'mql') and c.total >= ${mql - h} then 'mql'
            when c.total >= ${mql} then 'mql'
            else 'lead'
          end as stage
          offset 0) d
        cross join lateral (select case when x.rate <= 0 then x.next_due_at else least(x.next_due_at,
          x.scored_at + make_interval(secs => least(${p.due.maxMs}::float8,
            greatest(0, least(${p.due.tolerance}::float8 - 2 * x.slop,
              case d.stage when 'sql' then c.total - ${sqlT - h} - 2 * x.slop
                when 'mql' then c.total - ${mql - h} - 2 * x.slop else 'infinity'::float8 end)
              + greatest(0, a.eng_pos - ${p.engagementCap}::float8 - x.slop)) / x.rate) / 1000)) end
          as due_at
          offset 0) e
      ), written as (
        update lead_scores s set total = x.total, fit = x.fit, engagement = x.engagement,
          grade = x.grade, level = x.level, stage = x.stage, next_due_at = x.due_at,
          sums = array[x.fit_pos, x.fit_neg, x.eng_pos, x.eng_neg],
          -- The lines stay as they were written: their version is the row's until now.
          lines_version = coalesce(s.lines_version, s.model_version),
          model_version = ${p.version}
        from timed x
        where s.lead_id = x.lead_id
        returning s.lead_id
      ), history as (
        insert into score_history (lead_id, at, total, fit, engagement, stage, model_version, cause)
        select lead_id, ${p.at}::timestamptz, total, fit, engagement, stage, ${p.version}, 'model'
        from timed where total <> old_total or stage <> previous
      )
      select 'count' as kind, (select count(*) from written)::int as n, null::int as lead_id,
        null as from_stage, null as to_stage, null::float8 as total, null as owner
      union all
      select 'changed', (select count(*) from timed
          where total <> old_total or stage <> previous or line_moved)::int,
        null, null, null, null, null
      union all
      select 'crossing', 0, d.lead_id::int, d.previous, d.stage, d.total, l.owner
      from timed d join leads l on l.id = d.lead_id
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

/** The lowest and highest scored lead ids of a model, for slicing an update. */
export async function scoredIdRange(
  db: DbOrTx,
  p: { modelKey: string },
): Promise<{ lo: number; hi: number } | undefined> {
  const [row] = await execRows<{ lo: number | null; hi: number | null }>(
    db,
    sql`select min(lead_id)::float8 as lo, max(lead_id)::float8 as hi from lead_scores
        where model_key = ${p.modelKey}`,
  );
  return row?.lo == null || row.hi == null ? undefined : { lo: row.lo, hi: row.hi };
}

/**
 * Whether every scored lead of a model keeps per-rule decay and group sums, which a change of
 * points moves (rows from before they were kept have neither until rescored).
 */
export async function allKeepDecay(db: DbOrTx, p: { modelKey: string }): Promise<boolean> {
  const [row] = await execRows<{ missing: boolean }>(
    db,
    sql`select exists (select 1 from lead_scores where model_key = ${p.modelKey}
          and (decay is null or sums is null)) as missing`,
  );
  return row?.missing === false;
}

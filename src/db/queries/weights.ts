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
  /** Lead ids from `fromId` (inclusive) to `toId` (exclusive): one slice of the model's leads. */
  fromId: number;
  toId: number;
  /** The model version the rewritten rows are scored by. */
  version: number;
  /** The rules whose points changed: [rule id, group, label, new points], in model order. */
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
  /** Of those, leads whose score, stage or breakdown moved. */
  changed: number;
  crossings: {
    lead_id: number;
    from_stage: Stage;
    to_stage: Stage;
    total: number;
    owner: string | null;
  }[];
}

/** How many lines of `lines` belong to one of the rules `ids` (rule ids are plain words). */
function countLines(lines: SQL, ids: readonly string[]): SQL {
  if (ids.length === 0) return sql`0`;
  const path = `$[*] ? (${ids.map((id) => `@.ruleId == "${id}"`).join(" || ")})`;
  return sql`jsonb_array_length(jsonb_path_query_array(${lines}, ${path}::jsonpath))`;
}

/**
 * A change of points, applied to every lead of a model that a changed rule applies to in one
 * statement: each changed line is rescaled from the stored per-rule decay (or is the new points,
 * for a fit rule), the other lines are kept, and the caps, totals, grade, level, stage (with
 * hysteresis), breakdown order and due time are recomputed exactly as the scorer computes them
 * (see score and nextDueAt). Rows keep their `scored_at`: each equals a full rescore at that
 * time. Leads are locked in id order first, as the scorer locks them, so the two cannot deadlock.
 * The stored breakdown is edited with jsonpath, in place, rather than taken apart and rebuilt.
 * Writes the rows and their history; returns the stage crossings for the caller to record.
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

  // Each changed rule's new line as of the row's scoring, or null when it has none.
  const line = (c: (typeof p.changes)[number]): SQL => {
    const [id, group, label, points] = c;
    if (group === "fit")
      return sql`case when t.breakdown @> ${JSON.stringify([{ ruleId: id }])}::jsonb then
        jsonb_build_object('ruleId', ${id}::text, 'label', ${label}::text, 'group', 'fit',
          'count', 1, 'basePoints', ${r2(sql`${points}::float8`)},
          'points', ${r2(sql`${points}::float8`)}) end`;
    const count = sql`(t.decay->${id}::text->>0)::float8`;
    const factors = sql`(t.decay->${id}::text->>1)::float8`;
    return sql`case when t.decay ? ${id}::text and ${r2(sql`${points}::float8 * ${factors}`)} <> 0 then
      jsonb_build_object('ruleId', ${id}::text, 'label', ${label}::text, 'group', 'engagement',
        'count', ${count}::int, 'basePoints', ${r2(sql`${points}::float8 * ${count}`)},
        'points', ${r2(sql`${points}::float8 * ${factors}`)}) end`;
  };
  // Kept lines: all but the changed rules' and the caps'.
  const kept = sql`jsonb_path_query_array(t.breakdown, ${`$[*] ? (!(${[
    FIT_CAP_RULE,
    ENGAGEMENT_CAP_RULE,
    ...p.changes.map((c) => c[0]),
  ]
    .map((id) => `@.ruleId == "${id}"`)
    .join(" || ")}))`}::jsonpath)`;
  // Each new line goes in after the lines of the rules before it in the model's order, one
  // lateral step per changed rule.
  const inserts = p.changes.map((c, i) => {
    const before = p.order.slice(0, p.order.indexOf(c[0]));
    const prev = sql.raw(i === 0 ? "x.kept" : `a${i - 1}.lines`);
    const l = sql.raw(`x.l${i}`);
    return sql` cross join lateral (select case when ${l} is null then ${prev} else jsonb_insert(${prev},
      array[(${countLines(prev, before)})::text],
      ${l}) end as lines) ${sql.raw(`a${i}`)}`;
  });
  const lines = sql.raw(`a${p.changes.length - 1}.lines`);
  const newLines = p.changes.map((_, i) => sql.raw(`x.l${i}`));
  const lineSum = (group: string, sign: ">" | "<") =>
    sql.join(
      newLines.map(
        (l) =>
          sql` + coalesce(case when ${l}->>'group' = ${group} and (${l}->>'points')::float8 ${sql.raw(sign)} 0
            then (${l}->>'points')::float8 end, 0)`,
      ),
      sql``,
    );
  const { mql, sql: sqlT, hysteresis: h } = p.thresholds;
  const g = p.grades;
  const lv = p.levels;
  const keyCount = sql.join(
    p.engagementRules.map((id) => sql`(case when x.decay ? ${id}::text then 1 else 0 end)`),
    sql` + `,
  );
  const rate =
    p.decaying.length === 0
      ? sql`0::float8`
      : sql.join(
          p.decaying.map(
            ([id, points, halfMs]) =>
              sql`coalesce((x.decay->${id}::text->>1)::float8 * ${(points * Math.LN2) / halfMs}::float8, 0)`,
          ),
          sql` + `,
        );
  // Like the rescan baseline: the sorts of this size stay in memory, and the wide statement is
  // not worth compiling (JIT took a second of it on PG 15).
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
        select s.lead_id, s.breakdown, s.decay, s.stage, s.total, s.scored_at, s.next_due_at
        from lead_scores s
        where s.lead_id >= ${p.fromId} and s.lead_id < ${p.toId} and s.model_key = ${p.modelKey}
          and (${sql.join(touches, sql` or `)})
        order by s.lead_id
        for no key update
      ), edited as materialized (
        select t.lead_id, t.decay, t.stage as previous, t.total as old_total,
          t.breakdown as old_breakdown, t.scored_at,
          t.next_due_at, ${kept} as kept,
          ${sql.join(
            p.changes.map((c, i) => sql`${line(c)} as l${sql.raw(String(i))}`),
            sql`, `,
          )}
        from target t
      ), summed as (
        select x.*, k.fit_pos0 ${lineSum("fit", ">")} as fit_pos_raw,
          k.fit_neg ${lineSum("fit", "<")} as fit_neg,
          k.eng_pos0 ${lineSum("engagement", ">")} as eng_pos_raw,
          k.eng_neg ${lineSum("engagement", "<")} as eng_neg
        from edited x cross join lateral (
          select coalesce(sum(v.pts) filter (where v.grp = 'fit' and v.pts > 0), 0) as fit_pos0,
            coalesce(sum(v.pts) filter (where v.grp = 'fit' and v.pts < 0), 0) as fit_neg,
            coalesce(sum(v.pts) filter (where v.grp = 'engagement' and v.pts > 0), 0) as eng_pos0,
            coalesce(sum(v.pts) filter (where v.grp = 'engagement' and v.pts < 0), 0) as eng_neg
          from (select e->>'group' as grp, (e->>'points')::float8 as pts
                from jsonb_array_elements(x.kept) e) v
        ) k
      ), scored as materialized (
        select x.*, ${r2(sql`x.fit_pos_raw`)} as fit_pos, ${r2(sql`x.eng_pos_raw`)} as eng_pos,
          ${lines} as lines
        from summed x${sql.join(inserts, sql``)}
      ), totals as materialized (
        select x.lead_id, x.decay, x.previous, x.old_total, x.old_breakdown, x.scored_at,
          x.next_due_at,
          x.eng_pos,
          ${r2(sql`least(x.fit_pos, ${p.fitCap}::float8) + x.fit_neg`)} as fit,
          ${r2(sql`least(x.eng_pos, ${p.engagementCap}::float8) + x.eng_neg`)} as engagement,
          -- The caps' lines where the scorer puts them: after their group's rule lines.
          case when x.eng_pos > ${p.engagementCap}::float8 then jsonb_insert(f.lines,
            array[(jsonb_array_length(f.lines)
              - case when f.lines @? '$[*] ? (@.ruleId == "inactivity")' then 1 else 0 end)::text],
            jsonb_build_object('ruleId', 'engagement_cap', 'label', ${p.engagementCapLabel}::text,
              'group', 'engagement', 'count', 1,
              'basePoints', ${r2(sql`${p.engagementCap}::float8 - x.eng_pos`)},
              'points', ${r2(sql`${p.engagementCap}::float8 - x.eng_pos`)}))
          else f.lines end as breakdown
        from scored x cross join lateral (
          select case when x.fit_pos > ${p.fitCap}::float8 then jsonb_insert(x.lines,
            array[jsonb_array_length(jsonb_path_query_array(x.lines, '$[*] ? (@.group == "fit")'))::text],
            jsonb_build_object('ruleId', 'fit_cap', 'label', ${p.fitCapLabel}::text, 'group', 'fit',
              'count', 1, 'basePoints', ${r2(sql`${p.fitCap}::float8 - x.fit_pos`)},
              'points', ${r2(sql`${p.fitCap}::float8 - x.fit_pos`)}))
          else x.lines end as lines
        ) f
      ), staged as (
        select x.*, ${r2(sql`x.fit + x.engagement`)} as total,
          case when x.fit >= ${g.A} then 'A' when x.fit >= ${g.B} then 'B'
            when x.fit >= ${g.C} then 'C' else 'D' end as grade,
          case when x.engagement >= ${lv["1"]} then 1 when x.engagement >= ${lv["2"]} then 2
            when x.engagement >= ${lv["3"]} then 3 else 4 end as level,
          ${p.due.lineRounding}::float8 * (${keyCount} + 2) as slop,
          ${rate} as rate
        from totals x
      ), due as (
        select x.*, case
            when x.total >= ${sqlT} then 'sql'
            when x.total >= ${mql} and x.previous <> 'sql' then 'mql'
            when x.previous = 'sql' and x.total >= ${sqlT - h} then 'sql'
            when x.previous in ('sql', 'mql') and x.total >= ${mql - h} then 'mql'
            when x.total >= ${mql} then 'mql'
            else 'lead'
          end as stage
        from staged x
      ), timed as materialized (
        select x.*, case when x.rate <= 0 then x.next_due_at else least(x.next_due_at,
          x.scored_at + make_interval(secs => least(${p.due.maxMs}::float8,
            greatest(0, least(${p.due.tolerance}::float8 - 2 * x.slop,
              case x.stage when 'sql' then x.total - ${sqlT - h} - 2 * x.slop
                when 'mql' then x.total - ${mql - h} - 2 * x.slop else 'infinity'::float8 end)
              + greatest(0, x.eng_pos - ${p.engagementCap}::float8 - x.slop)) / x.rate) / 1000)) end
          as due_at
        from due x
      ), written as (
        update lead_scores s set total = x.total, fit = x.fit, engagement = x.engagement,
          grade = x.grade, level = x.level, stage = x.stage, breakdown = x.breakdown,
          model_version = ${p.version}, next_due_at = x.due_at
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
          where total <> old_total or stage <> previous or breakdown <> old_breakdown)::int,
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

/** Whether every scored lead of a model keeps per-rule decay (rows from before it do not). */
export async function allKeepDecay(db: DbOrTx, p: { modelKey: string }): Promise<boolean> {
  const [row] = await execRows<{ missing: boolean }>(
    db,
    sql`select exists (select 1 from lead_scores where model_key = ${p.modelKey} and decay is null)
        as missing`,
  );
  return row?.missing === false;
}

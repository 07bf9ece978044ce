/**
 * The set-based baseline for rescoring: one SQL statement that recomputes every lead's fit and
 * engagement from the leads and events tables (per-rule matching, most recent `maxCount`
 * occurrences, windows, half-life decay, group caps, the inactivity penalty, grade, level and
 * stage with hysteresis) and updates lead_scores where a value changed. It writes no breakdown
 * and no activity, so it does strictly less than the app does: a favourable baseline.
 */
import type { Condition, ScoringModel } from "../src/core/model.js";

const DAY_MS = 86_400_000;

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

const LEAD_COLUMN: Record<string, string> = {
  email: "email",
  externalId: "external_id",
  firstName: "first_name",
  lastName: "last_name",
  title: "title",
  company: "company",
  industry: "industry",
  employees: "employees",
  annualRevenue: "annual_revenue",
  country: "country",
  source: "source",
  owner: "owner",
};

function textOf(expr: string): string {
  return `lower(trim(${expr}::text))`;
}

/** One condition as SQL over a text-valued expression (`num` is its numeric form). */
function condition(c: Condition, expr: string, num: string): string {
  switch (c.op) {
    case "equals":
      return typeof c.value === "number"
        ? `${num} = ${c.value}`
        : `${textOf(expr)} = ${lit(String(c.value).toLowerCase())}`;
    case "oneOf":
      return `(${c.values
        .map((v) =>
          typeof v === "number"
            ? `${num} = ${v}`
            : `${textOf(expr)} = ${lit(String(v).trim().toLowerCase())}`,
        )
        .join(" or ")})`;
    case "containsAny":
      return `${textOf(expr)} like any (array[${c.values.map((v) => lit(`%${likeEscape(v.toLowerCase())}%`)).join(", ")}])`;
    case "hasWord": {
      // The engine's words(): lower case, runs of anything but letters and digits become one space.
      const words = (x: string) =>
        x
          .toLowerCase()
          .split(/[^\p{L}\p{N}]+/u)
          .filter(Boolean)
          .join(" ");
      const text = `(' ' || trim(regexp_replace(lower(${expr}::text), '[^[:alnum:]]+', ' ', 'g')) || ' ')`;
      return `${text} like any (array[${c.values.map((v) => lit(`% ${likeEscape(words(v))} %`)).join(", ")}])`;
    }
    case "range":
      return [
        c.min === undefined ? undefined : `${num} >= ${c.min}`,
        c.max === undefined ? undefined : `${num} <= ${c.max}`,
      ]
        .filter((x) => x !== undefined)
        .join(" and ");
    case "present":
      return `coalesce(trim(${expr}::text), '') <> ''`;
    case "absent":
      return `coalesce(trim(${expr}::text), '') = ''`;
    default:
      throw new Error(`the SQL baseline does not know condition ${JSON.stringify(c)}`);
  }
}

function leadCondition(c: Condition): string {
  if (c.field.startsWith("attributes.")) {
    const path = c.field.slice(11).split(".").map(lit).join(", ");
    const expr = `(l.attributes #>> array[${path}])`;
    return condition(c, expr, `(case when ${expr} ~ '^-?[0-9.]+$' then ${expr}::float8 end)`);
  }
  const col = LEAD_COLUMN[c.field];
  if (!col) throw new Error(`the SQL baseline does not know lead field ${c.field}`);
  return condition(c, `l.${col}`, `l.${col}::float8`);
}

function propertyCondition(c: Condition): string {
  const expr = `(e.properties ->> ${lit(c.field)})`;
  return condition(c, expr, `(case when ${expr} ~ '^-?[0-9.]+$' then ${expr}::float8 end)`);
}

/** JS Math.round(x * 100) / 100, so totals agree with the app's to the cent. */
const round2 = (x: string) => `(floor((${x}) * 100 + 0.5) / 100)`;

/**
 * The statement, for `model` (active as `version`) at `now` (epoch ms). With `update` false it
 * only selects the recomputed scores (lead_id, total), for cross-checking the app's.
 */
export function rescanStatement(
  model: ScoringModel,
  version: number,
  now: number,
  update = true,
): string {
  const nowTs = `${lit(new Date(now).toISOString())}::timestamptz`;
  const rules = model.engagement.rules;
  const matchArray = rules
    .map((r, i) => {
      const where = [`e.type = ${lit(r.event)}`, ...r.where.map(propertyCondition)].join(" and ");
      return `case when ${where} then ${i + 1} end`;
    })
    .join(",\n        ");
  const matches = (r: (typeof rules)[number]) =>
    `(${[`e.type = ${lit(r.event)}`, ...r.where.map(propertyCondition)].join(" and ")})`;
  const anyOf = (xs: typeof rules) => (xs.length === 0 ? "false" : xs.map(matches).join(" or "));
  // As in the engine, an event only negative rules match (an unsubscribe) is not engagement and
  // does not reset the inactivity clock.
  const engaged = `(${anyOf(rules.filter((r) => r.points > 0))}) or not (${anyOf(rules.filter((r) => r.points < 0))})`;
  const ruleValues = rules
    .map(
      (r, i) =>
        `(${i + 1}, ${r.points}::float8, ${r.maxCount}, ${r.halfLifeDays === undefined ? "null" : r.halfLifeDays * DAY_MS}::float8, ${r.windowDays === undefined ? "null" : r.windowDays * DAY_MS}::float8)`,
    )
    .join(", ");
  const fitSum = (rs: typeof model.fit.rules) =>
    rs.length === 0
      ? "0"
      : rs
          .map(
            (r) =>
              `(case when ${r.when.map(leadCondition).join(" and ")} then ${r.points}::float8 else 0 end)`,
          )
          .join("\n          + ");
  const fitPositive = fitSum(model.fit.rules.filter((r) => r.points > 0));
  const fitNegative = fitSum(model.fit.rules.filter((r) => r.points < 0));
  const inactivity = model.engagement.inactivity;
  const { mql, sql: sqlT, hysteresis: h } = model.thresholds;
  const g = model.grades;
  const lv = model.levels;

  const computed = `
    with m as (
      select e.lead_id, e.occurred_at,
        unnest(array_remove(array[
        ${matchArray}
        ]::int[], null)) as r
      from events e
    ), ranked as (
      select lead_id, r, occurred_at,
        row_number() over (partition by lead_id, r order by occurred_at desc) as rn
      from m
    ), rules(r, points, max_count, half_ms, window_ms) as (values ${ruleValues}),
    lines as (
      select k.lead_id, ${round2(
        "sum(case when u.half_ms is null then u.points else u.points * power(0.5, greatest(0, date_part('epoch', " +
          nowTs +
          " - k.occurred_at) * 1000) / u.half_ms) end)",
      )} as pts
      from ranked k join rules u using (r)
      where k.rn <= u.max_count
        and (u.window_ms is null or greatest(0, date_part('epoch', ${nowTs} - k.occurred_at) * 1000) <= u.window_ms)
      group by k.lead_id, k.r
    ), eng as (
      select lead_id,
        ${round2("coalesce(sum(pts) filter (where pts > 0), 0)")} as pos,
        coalesce(sum(pts) filter (where pts < 0), 0) as neg
      from lines group by lead_id
    ), last_event as (
      select e.lead_id, max(e.occurred_at) as at from events e where ${engaged} group by e.lead_id
    ), fit as materialized (
      select l.id as lead_id, ${round2(`least(${model.fit.cap}, ${round2(fitPositive)}) + ${fitNegative}`)} as fit
      from leads l
    ), scored as materialized (
      select f.lead_id, f.fit,
        ${round2(
          `least(${model.engagement.cap}, coalesce(eng.pos, 0)) + coalesce(eng.neg, 0)${
            inactivity
              ? ` + case when le.at is not null and ${nowTs} - le.at > interval '${inactivity.afterDays * 86_400} seconds' then ${inactivity.points} else 0 end`
              : ""
          }`,
        )} as engagement
      from fit f left join eng using (lead_id) left join last_event le using (lead_id)
    ), n as (
      select s.lead_id, x.fit, x.engagement, ${round2("x.fit + x.engagement")} as total,
        case when x.fit >= ${g.A} then 'A' when x.fit >= ${g.B} then 'B' when x.fit >= ${g.C} then 'C' else 'D' end as grade,
        case when x.engagement >= ${lv["1"]} then 1 when x.engagement >= ${lv["2"]} then 2 when x.engagement >= ${lv["3"]} then 3 else 4 end as level,
        s.stage as previous
      from scored x join lead_scores s using (lead_id)
    ), staged as materialized (
      select n.*,
        case
          when total >= ${sqlT} then 'sql'
          when total >= ${mql} and previous <> 'sql' then 'mql'
          when previous = 'sql' and total >= ${sqlT - h} then 'sql'
          when previous in ('sql', 'mql') and total >= ${mql - h} then 'mql'
          when total >= ${mql} then 'mql'
          else 'lead'
        end as stage
      from n
    )`;
  if (!update) return `${computed} select lead_id::int as lead_id, total from staged`;
  return `${computed}
    update lead_scores s set total = x.total, fit = x.fit, engagement = x.engagement,
      grade = x.grade, level = x.level, stage = x.stage, model_version = ${version}, scored_at = ${nowTs}
    from staged x
    where s.lead_id = x.lead_id
      and (s.total, s.fit, s.engagement, s.grade, s.level, s.stage, s.model_version)
        is distinct from (x.total, x.fit, x.engagement, x.grade, x.level::smallint, x.stage, ${version})`;
}

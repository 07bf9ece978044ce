import { type SQL, sql } from "drizzle-orm";
import type { Activity, Stage } from "../../core/model.js";
import { type DbOrTx, execRows } from "../client.js";
import { idArray } from "./ids.js";

/** A lead's facts with its stored score, snake_case as the scorer reads them. */
export interface LeadFactsRow {
  id: number;
  email: string | null;
  external_id: string | null;
  first_name: string | null;
  last_name: string | null;
  title: string | null;
  company: string | null;
  industry: string | null;
  employees: number | null;
  annual_revenue: number | null;
  country: string | null;
  source: string | null;
  owner: string | null;
  attributes: Record<string, unknown> | null;
}

export interface ScoringRow extends LeadFactsRow {
  s_key: string | null;
  s_version: number | null;
  s_total: number | null;
  s_stage: Stage | null;
  s_grade: string | null;
  /** As text: parsed only when everything else about the score is unchanged. */
  s_breakdown: string | null;
  s_activity: Activity | null;
  /** Epoch ms the stored score is due for a rescore (null: now, or never scored with one). */
  s_due: number | null;
  /**
   * The row keeps per-rule decay and group sums, and its lines carry its own version's points: a
   * weight change can rescale it, and nothing about it needs rebuilding (older rows do not).
   */
  s_rescalable: boolean | null;
}

/**
 * Locks leads in id order. FOR NO KEY UPDATE: a batch's own event inserts already hold FOR KEY
 * SHARE on these leads (the foreign key), and FOR UPDATE would deadlock with another batch's.
 */
export async function lockLeads(tx: DbOrTx, p: { ids: readonly number[] }): Promise<void> {
  await tx.execute(
    sql`select 1 from leads where id = any(${idArray(p.ids)}) order by id for no key update`,
  );
}

export interface ScoringRowsParams {
  ids: readonly number[];
  /** Leave the stored breakdown out (read later, only where needed). */
  lazyBreakdown: boolean;
}

export function scoringRows(tx: DbOrTx, p: ScoringRowsParams): Promise<ScoringRow[]> {
  const breakdownColumn = p.lazyBreakdown ? sql`null::text` : sql`s.breakdown::text`;
  return execRows<ScoringRow>(
    tx,
    sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
          l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
          l.attributes, s.model_key as s_key, s.model_version as s_version, s.total as s_total, s.stage as s_stage,
          s.grade as s_grade, ${breakdownColumn} as s_breakdown, s.activity as s_activity,
          date_part('epoch', s.next_due_at) * 1000 as s_due,
          s.decay is not null and s.sums is not null
            and coalesce(s.lines_version, s.model_version) = s.model_version as s_rescalable
        from leads l left join lead_scores s on s.lead_id = l.id
        where l.id = any(${idArray(p.ids)})
        order by l.id`,
  );
}

export function storedBreakdowns(
  tx: DbOrTx,
  p: { ids: readonly number[] },
): Promise<{ lead_id: number; breakdown: string }[]> {
  return execRows<{ lead_id: number; breakdown: string }>(
    tx,
    sql`select lead_id::int as lead_id, breakdown::text as breakdown from lead_scores
        where lead_id = any(${idArray(p.ids)})`,
  );
}

export interface WriteScoresParams {
  /**
   * One positional row per changed lead: [lead_id, total, fit, engagement, grade, level, stage,
   * breakdown, activity (null when unchanged), last_event_at, write history, has a score row,
   * model key, model version, decay, next due at (ISO), group sums (GroupSums)]. The lines are
   * written as of the model version, so `lines_version` is it too.
   */
  scoreRows: unknown[][];
  /** Stage crossings: { lead_id, from_stage, to_stage, total, alert, owner, version }. */
  transitionRows: unknown[];
  cause: string;
  /** Alerts of a burst are inserted held, to be released or summarised when it ends. */
  burstId?: number | undefined;
  /** ISO time of the scoring. */
  at: string;
}

/**
 * One statement for scores, history, stage crossings and their alerts: every round trip here is
 * made while holding the leads' locks. Score rows come as one jsonb array of positional arrays:
 * extracting jsonb elements copies them, where json_to_recordset re-parses every jsonb column.
 * Returns the number of alerts queued.
 */
export async function writeScores(tx: DbOrTx, p: WriteScoresParams): Promise<number> {
  const { at } = p;
  const crossings =
    p.transitionRows.length === 0
      ? sql``
      : sql`, crossing as (
        select * from json_to_recordset(${JSON.stringify(p.transitionRows)}::json) as c(lead_id bigint,
          from_stage text, to_stage text, total float8, alert boolean, owner text, version int)
      ), t as (
        insert into stage_transitions (lead_id, from_stage, to_stage, total, model_version, cause, at)
        select lead_id, from_stage, to_stage, total, version, ${p.cause}, ${at}::timestamptz
        from crossing
        returning id, lead_id, to_stage
      ), o as (
        insert into alert_outbox (transition_id, lead_id, stage, dm_user, burst_id, status)
        select t.id, t.lead_id, t.to_stage, crossing.owner, ${p.burstId ?? null}::bigint,
          ${p.burstId === undefined ? "pending" : "held"}
        from t join crossing on crossing.lead_id = t.lead_id
        where crossing.alert
          -- A closed lead (won, not a fit) keeps its history but raises no alert.
          and not exists (select 1 from lead_closures c
            where c.lead_id = t.lead_id and c.state in ('won', 'not_a_fit'))
        returning 1
      )`;
  const alertCount = p.transitionRows.length === 0 ? sql`0` : sql`(select count(*) from o)`;
  const [written] = await execRows<{ n: number }>(
    tx,
    sql`
      with x as materialized (
        select (e->>0)::bigint as lead_id, (e->>1)::float8 as total, (e->>2)::float8 as fit,
          (e->>3)::float8 as engagement, e->>4 as grade, (e->>5)::smallint as level,
          e->>6 as stage, e->7 as breakdown, nullif(e->8, 'null'::jsonb) as activity,
          (e->>9)::timestamptz as last_event_at, (e->>10)::boolean as history,
          (e->>11)::boolean as existing, e->>12 as model_key, (e->>13)::int as model_version,
          e->14 as decay, (e->>15)::timestamptz as next_due_at,
          array[(e->16->>0)::float8, (e->16->>1)::float8, (e->16->>2)::float8,
            (e->16->>3)::float8] as sums
        from jsonb_array_elements(${JSON.stringify(p.scoreRows)}::jsonb) e
      ), updated as (
        update lead_scores s set model_key = x.model_key, model_version = x.model_version, total = x.total, fit = x.fit,
          engagement = x.engagement, grade = x.grade, level = x.level, stage = x.stage,
          breakdown = x.breakdown, activity = coalesce(x.activity, s.activity),
          last_event_at = x.last_event_at, scored_at = ${at}::timestamptz, decay = x.decay,
          next_due_at = x.next_due_at, sums = x.sums, lines_version = x.model_version
        from x
        where s.lead_id = x.lead_id and x.existing
      ), inserted as (
        insert into lead_scores (lead_id, model_key, model_version, total, fit, engagement, grade,
          level, stage, breakdown, activity, last_event_at, scored_at, decay, next_due_at, sums,
          lines_version)
        select lead_id, model_key, model_version, total, fit, engagement, grade, level, stage, breakdown,
          activity, last_event_at, ${at}::timestamptz, decay, next_due_at, sums, model_version
        from x
        where not x.existing
        on conflict (lead_id) do update set model_key = excluded.model_key,
          model_version = excluded.model_version,
          total = excluded.total, fit = excluded.fit, engagement = excluded.engagement,
          grade = excluded.grade, level = excluded.level, stage = excluded.stage,
          breakdown = excluded.breakdown, activity = excluded.activity,
          last_event_at = excluded.last_event_at, scored_at = excluded.scored_at,
          decay = excluded.decay, next_due_at = excluded.next_due_at, sums = excluded.sums,
          lines_version = excluded.lines_version
      ), history as (
        insert into score_history (lead_id, at, total, fit, engagement, stage, model_version, cause)
        select lead_id, ${at}::timestamptz, total, fit, engagement, stage, model_version, ${p.cause}
        from x
        where x.history
      )${crossings}
      select ${alertCount}::int as n`,
  );
  return written?.n ?? 0;
}

export interface IdPageParams {
  /** Ids greater than this. */
  after: number;
  limit: number;
  /** A predicate on `lead_scores s`; undefined walks every lead. */
  where?: SQL | undefined;
}

/** The next page of lead ids to rescore, in id order. */
export function leadIdPage(db: DbOrTx, p: IdPageParams): Promise<{ id: number }[]> {
  return p.where
    ? execRows<{ id: number }>(
        db,
        sql`select s.lead_id::int as id from lead_scores s
            where s.lead_id > ${p.after} and (${p.where}) order by s.lead_id limit ${p.limit}`,
      )
    : execRows<{ id: number }>(
        db,
        sql`select id::int as id from leads where id > ${p.after} order by id limit ${p.limit}`,
      );
}

/**
 * Leads whose stored score is due at `now` (see nextDueAt), those never scored with a due time,
 * and leads with no score yet, in id order. The due index finds them without reading the rest.
 */
export async function dueLeadIds(db: DbOrTx, p: { now: number }): Promise<number[]> {
  const at = new Date(p.now).toISOString();
  const rows = await execRows<{ id: number }>(
    db,
    sql`select lead_id::int as id from lead_scores where next_due_at <= ${at}::timestamptz
        union
        select lead_id::int from lead_scores where next_due_at is null
        union
        select l.id::int from leads l
        where not exists (select 1 from lead_scores s where s.lead_id = l.id)
        order by 1`,
  );
  return rows.map((r) => r.id);
}

/**
 * After thresholds change, leads above the lead stage that the change did not rescore may now
 * fall sooner than their due time says: they are due at once, and the next refresh rescores them.
 */
export async function dueAboveLead(
  db: DbOrTx,
  p: { modelKey: string; exceptVersion: number; now: number },
): Promise<void> {
  await db.execute(
    sql`update lead_scores set next_due_at = ${new Date(p.now).toISOString()}::timestamptz
        where model_key = ${p.modelKey} and stage <> 'lead' and model_version <> ${p.exceptVersion}
          and (next_due_at is null or next_due_at > ${new Date(p.now).toISOString()}::timestamptz)`,
  );
}

export interface PlanPredicateParams {
  engagementRules: readonly string[];
  fitRules: readonly string[];
  /** The new thresholds when a threshold changed. */
  thresholds?: { mql: number; sql: number; hysteresis: number } | undefined;
}

/** The leads a targeted rescore plan can move, as a predicate on `lead_scores s`. */
export function planPredicate(p: PlanPredicateParams): SQL {
  const parts: SQL[] = [];
  if (p.engagementRules.length > 0) {
    parts.push(
      sql`(s.activity->'rules') ?| array(select json_array_elements_text(${JSON.stringify(p.engagementRules)}::json))`,
    );
  }
  for (const id of p.fitRules) {
    parts.push(sql`s.breakdown @> ${JSON.stringify([{ ruleId: id }])}::jsonb`);
  }
  if (p.thresholds) {
    const { mql, sql: sqlT, hysteresis } = p.thresholds;
    parts.push(sql`(
      (s.stage = 'lead' and s.total >= ${mql})
      or (s.stage = 'mql' and (s.total >= ${sqlT} or s.total < ${mql - hysteresis}))
      or (s.stage = 'sql' and s.total < ${sqlT - hysteresis}))`);
  }
  return sql.join(parts, sql` or `);
}

export interface ImpactRow extends LeadFactsRow {
  model_key: string;
  stage: Stage;
  act: Activity;
  outcome: "won" | "lost" | "not_a_fit" | null;
}

/** A page of scored leads with their activity and latest outcome, for measuring a change. */
export function impactPage(db: DbOrTx, p: { after: number; limit: number }): Promise<ImpactRow[]> {
  return execRows<ImpactRow>(
    db,
    sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title, l.company,
          l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner, l.attributes,
          s.model_key, s.stage, s.activity as act,
          (select o.outcome from outcomes o where o.lead_id = l.id
            order by o.created_at desc, o.id desc limit 1) as outcome
        from leads l join lead_scores s on s.lead_id = l.id
        where l.id > ${p.after} order by l.id limit ${p.limit}`,
  );
}

/** A lead's facts with its stored stage and activity: what an explanation is computed from. */
export async function explainRow(
  db: DbOrTx,
  p: { leadId: number },
): Promise<(LeadFactsRow & { stage: Stage | null; act: Activity | null }) | undefined> {
  const [row] = await execRows<LeadFactsRow & { stage: Stage | null; act: Activity | null }>(
    db,
    sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
          l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
          l.attributes, s.stage, s.activity as act
        from leads l left join lead_scores s on s.lead_id = l.id where l.id = ${p.leadId}`,
  );
  return row;
}

/** Leads by stage, every stage present (0 when empty). */
export async function stageCounts(db: DbOrTx): Promise<Record<Stage, number>> {
  const rows = await execRows<{ stage: Stage; n: number }>(
    db,
    sql`select stage, count(*)::int as n from lead_scores group by stage`,
  );
  const counts: Record<Stage, number> = { lead: 0, mql: 0, sql: 0 };
  for (const r of rows) counts[r.stage] = r.n;
  return counts;
}

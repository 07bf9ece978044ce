import { sql } from "drizzle-orm";
import {
  activityFromEvents,
  activityReusable,
  applyEvents,
  emptyActivity,
  nextStage,
  score,
} from "../core/engine.js";
import type {
  Activity,
  ActivityEvent,
  BreakdownEntry,
  LeadFacts,
  ScoringModel,
  Stage,
} from "../core/model.js";
import { STAGE_RANK } from "../core/model.js";
import { type DbOrTx, execRows } from "../db/client.js";
import { modelByVersion } from "./models.js";

/** Decay alone moves scores a little every hour; history keeps only moves of at least a point. */
const MIN_HISTORY_DELTA_FOR_DECAY = 1;

export type ScoreCause = "events" | "lead" | "model" | "decay" | "import";

export interface ScoringContext {
  model: ScoringModel;
  version: number;
  now: number;
  cause: ScoreCause;
}

export interface ScoreSummary {
  scored: number;
  changed: number;
  transitions: number;
  alerts: number;
}

interface LeadRow {
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
  s_version: number | null;
  s_total: number | null;
  s_stage: Stage | null;
  s_grade: string | null;
  /** As text: parsed only when everything else about the score is unchanged. */
  s_breakdown: string | null;
  s_activity: Activity | null;
}

export function leadFacts(r: LeadRow): LeadFacts {
  return {
    email: r.email,
    externalId: r.external_id,
    firstName: r.first_name,
    lastName: r.last_name,
    title: r.title,
    company: r.company,
    industry: r.industry,
    employees: r.employees,
    annualRevenue: r.annual_revenue,
    country: r.country,
    source: r.source,
    owner: r.owner,
    attributes: r.attributes,
  };
}

/**
 * Whether a stored breakdown (jsonb text) says the same as a computed one. Compared field by
 * field: jsonb orders keys its own way, so comparing serialisations would always differ.
 */
export function sameBreakdown(stored: string | null, computed: readonly BreakdownEntry[]): boolean {
  if (stored === null) return false;
  const entries = JSON.parse(stored) as BreakdownEntry[];
  if (entries.length !== computed.length) return false;
  return entries.every((a, i) => {
    const b = computed[i] as BreakdownEntry;
    return (
      a.ruleId === b.ruleId &&
      a.label === b.label &&
      a.group === b.group &&
      a.count === b.count &&
      a.basePoints === b.basePoints &&
      a.points === b.points
    );
  });
}

/** Leads are numbered; passing id lists as one JSON parameter works the same on both drivers. */
function idArray(ids: readonly number[]) {
  return sql`array(select x::bigint from json_array_elements_text(${JSON.stringify(ids)}::json) x)`;
}

/**
 * Rescores the given leads inside the caller's transaction: applies new events to the stored
 * activity, writes changed scores and history, records each stage crossing once and queues an
 * alert for each up-crossing into MQL or SQL. Lead rows are locked so concurrent batches on the
 * same lead serialise instead of losing activity. The lock is FOR NO KEY UPDATE: the batch's own
 * event inserts already hold FOR KEY SHARE on these leads (the foreign key), and FOR UPDATE would
 * wait on another batch's key-share locks while it waits on ours: a deadlock.
 */
export async function scoreLeads(
  tx: DbOrTx,
  leadIds: readonly number[],
  ctx: ScoringContext,
  newEvents?: ReadonlyMap<number, ActivityEvent[]>,
): Promise<ScoreSummary> {
  const summary: ScoreSummary = { scored: 0, changed: 0, transitions: 0, alerts: 0 };
  if (leadIds.length === 0) return summary;
  const sorted = [...new Set(leadIds)].sort((a, b) => a - b);
  // Lock first, read after, in two statements: a statement that waited for a lock re-checks only
  // the locked row, and would return the score row as it was before the batch it waited for
  // committed (read committed), folding our events into stale activity.
  await tx.execute(
    sql`select 1 from leads where id = any(${idArray(sorted)}) order by id for no key update`,
  );
  // New events change a lead's activity, and changed activity is written whatever the
  // breakdown says: the event path reads stored breakdowns only for the few leads it needs.
  const lazyBreakdown = newEvents !== undefined;
  const breakdownColumn = lazyBreakdown ? sql`null::text` : sql`s.breakdown::text`;
  const rows = await execRows<LeadRow>(
    tx,
    sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
          l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
          l.attributes, s.model_version as s_version, s.total as s_total, s.stage as s_stage,
          s.grade as s_grade, ${breakdownColumn} as s_breakdown, s.activity as s_activity
        from leads l left join lead_scores s on s.lead_id = l.id
        where l.id = any(${idArray(sorted)})
        order by l.id`,
  );

  // Leads whose stored activity was built under a model with other rule definitions are rebuilt
  // from their events; a weight or threshold change never needs this.
  const rebuild: number[] = [];
  const reusableFrom = new Map<number, boolean>();
  for (const r of rows) {
    if (r.s_activity && r.s_version !== null && r.s_version !== ctx.version) {
      let reusable = reusableFrom.get(r.s_version);
      if (reusable === undefined) {
        reusable = activityReusable(await modelByVersion(tx, r.s_version), ctx.model).reusable;
        reusableFrom.set(r.s_version, reusable);
      }
      if (!reusable) rebuild.push(r.id);
    }
  }
  const rebuilt = new Map<number, Activity>();
  if (rebuild.length > 0) {
    const evs = await execRows<{
      lead_id: number;
      type: string;
      at: number;
      properties: Record<string, unknown>;
    }>(
      tx,
      sql`select lead_id::int as lead_id, type, (extract(epoch from occurred_at) * 1000)::float8 as at, properties
          from events where lead_id = any(${idArray(rebuild)})`,
    );
    const byLead = new Map<number, ActivityEvent[]>();
    for (const e of evs) {
      const list = byLead.get(e.lead_id) ?? [];
      list.push({ type: e.type, at: e.at, properties: e.properties });
      byLead.set(e.lead_id, list);
    }
    for (const id of rebuild) rebuilt.set(id, activityFromEvents(byLead.get(id) ?? [], ctx.model));
  }

  // One positional row per changed lead: [lead_id, total, fit, engagement, grade, level, stage,
  // breakdown, activity (null when unchanged), last_event_at, write history, has a score row].
  const scoreRows: unknown[][] = [];
  const transitionRows: unknown[] = [];
  const at = new Date(ctx.now).toISOString();
  const scored = rows.map((r) => {
    const fresh = newEvents?.get(r.id);
    let activity = rebuilt.get(r.id) ?? r.s_activity ?? emptyActivity();
    // Rebuilt activity already holds every stored event, the new ones included.
    if (fresh && fresh.length > 0 && !rebuilt.has(r.id))
      activity = applyEvents(activity, fresh, ctx.model);
    const result = score(leadFacts(r), activity, ctx.model, ctx.now);
    const previous: Stage = r.s_stage ?? "lead";
    const stage = nextStage(previous, result.total, ctx.model.thresholds);
    const activityChanged = activity !== r.s_activity;
    // Only the breakdown can still tell whether this score changed.
    const undecided =
      !activityChanged &&
      r.s_total === result.total &&
      r.s_stage === stage &&
      r.s_grade === result.grade;
    return { r, activity, result, previous, stage, activityChanged, undecided };
  });
  if (lazyBreakdown) {
    const need = scored.filter((x) => x.undecided).map((x) => x.r.id);
    if (need.length > 0) {
      const stored = await execRows<{ lead_id: number; breakdown: string }>(
        tx,
        sql`select lead_id::int as lead_id, breakdown::text as breakdown from lead_scores
            where lead_id = any(${idArray(need)})`,
      );
      const byId = new Map(stored.map((b) => [b.lead_id, b.breakdown]));
      for (const x of scored) if (x.undecided) x.r.s_breakdown = byId.get(x.r.id) ?? null;
    }
  }
  for (const { r, activity, result, previous, stage, activityChanged, undecided } of scored) {
    summary.scored++;
    const scoreChanged = !undecided || !sameBreakdown(r.s_breakdown, result.breakdown);
    if (!scoreChanged && !activityChanged && r.s_version !== null) continue;
    summary.changed++;
    const delta = Math.abs(result.total - (r.s_total ?? 0));
    const minDelta = ctx.cause === "decay" ? MIN_HISTORY_DELTA_FOR_DECAY : Number.EPSILON;
    const history = r.s_total === null || stage !== previous || delta >= minDelta;
    scoreRows.push([
      r.id,
      result.total,
      result.fit,
      result.engagement,
      result.grade,
      result.level,
      stage,
      result.breakdown,
      // Unchanged activity is not sent back: a weight change rewrites no activity.
      activityChanged || r.s_version === null ? activity : null,
      activity.lastEventAt === null ? null : new Date(activity.lastEventAt).toISOString(),
      history,
      r.s_version !== null,
    ]);
    if (stage !== previous) {
      transitionRows.push({
        lead_id: r.id,
        from_stage: previous,
        to_stage: stage,
        total: result.total,
        alert: STAGE_RANK[stage] > STAGE_RANK[previous],
        owner: r.owner,
      });
    }
  }

  if (scoreRows.length > 0) {
    // One statement for scores, history, stage crossings and their alerts: every round trip
    // here is made while holding the leads' locks. Score rows come as one jsonb array of
    // positional arrays: extracting jsonb elements copies them, where json_to_recordset
    // re-parses every jsonb column.
    const crossings =
      transitionRows.length === 0
        ? sql``
        : sql`, crossing as (
        select * from json_to_recordset(${JSON.stringify(transitionRows)}::json) as c(lead_id bigint,
          from_stage text, to_stage text, total float8, alert boolean, owner text)
      ), t as (
        insert into stage_transitions (lead_id, from_stage, to_stage, total, model_version, cause, at)
        select lead_id, from_stage, to_stage, total, ${ctx.version}, ${ctx.cause}, ${at}::timestamptz
        from crossing
        returning id, lead_id, to_stage
      ), o as (
        insert into alert_outbox (transition_id, lead_id, stage, dm_user)
        select t.id, t.lead_id, t.to_stage, crossing.owner
        from t join crossing on crossing.lead_id = t.lead_id
        where crossing.alert
        returning 1
      )`;
    const alertCount = transitionRows.length === 0 ? sql`0` : sql`(select count(*) from o)`;
    const [written] = await execRows<{ n: number }>(
      tx,
      sql`
      with x as materialized (
        select (e->>0)::bigint as lead_id, (e->>1)::float8 as total, (e->>2)::float8 as fit,
          (e->>3)::float8 as engagement, e->>4 as grade, (e->>5)::smallint as level,
          e->>6 as stage, e->7 as breakdown, nullif(e->8, 'null'::jsonb) as activity,
          (e->>9)::timestamptz as last_event_at, (e->>10)::boolean as history,
          (e->>11)::boolean as existing
        from jsonb_array_elements(${JSON.stringify(scoreRows)}::jsonb) e
      ), updated as (
        update lead_scores s set model_version = ${ctx.version}, total = x.total, fit = x.fit,
          engagement = x.engagement, grade = x.grade, level = x.level, stage = x.stage,
          breakdown = x.breakdown, activity = coalesce(x.activity, s.activity),
          last_event_at = x.last_event_at, scored_at = ${at}::timestamptz
        from x
        where s.lead_id = x.lead_id and x.existing
      ), inserted as (
        insert into lead_scores (lead_id, model_version, total, fit, engagement, grade, level,
          stage, breakdown, activity, last_event_at, scored_at)
        select lead_id, ${ctx.version}, total, fit, engagement, grade, level, stage, breakdown,
          activity, last_event_at, ${at}::timestamptz
        from x
        where not x.existing
        on conflict (lead_id) do update set model_version = excluded.model_version,
          total = excluded.total, fit = excluded.fit, engagement = excluded.engagement,
          grade = excluded.grade, level = excluded.level, stage = excluded.stage,
          breakdown = excluded.breakdown, activity = excluded.activity,
          last_event_at = excluded.last_event_at, scored_at = excluded.scored_at
      ), history as (
        insert into score_history (lead_id, at, total, fit, engagement, stage, model_version, cause)
        select lead_id, ${at}::timestamptz, total, fit, engagement, stage, ${ctx.version}, ${ctx.cause}
        from x
        where x.history
      )${crossings}
      select ${alertCount}::int as n`,
    );
    summary.transitions = transitionRows.length;
    summary.alerts = written?.n ?? 0;
  }
  return summary;
}

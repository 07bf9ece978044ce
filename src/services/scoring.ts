import { nextDueAt } from "../core/due.js";
import {
  activityReusable,
  applyEvents,
  emptyActivity,
  nextStage,
  rescaledBreakdown,
  scoreDetailed,
} from "../core/engine.js";
import type { ActivityEvent, BreakdownEntry, LeadFacts, Stage } from "../core/model.js";
import { STAGE_RANK } from "../core/model.js";
import type { KeyedModel, ModelSet } from "../core/segments.js";
import type { DbOrTx } from "../db/client.js";
import { type AlertLead, loadAlertLead } from "../db/queries/alerts.js";
import {
  type LeadFactsRow,
  lockLeads,
  type ScoringRow,
  scoringRows,
  storedBreakdowns,
  writeScores,
} from "../db/queries/scores.js";
import { modelByVersion } from "./models.js";
import { rebuildActivities } from "./rebuild.js";
import { type Crossing, routeCrossings } from "./routing.js";

/** Decay alone moves scores a little every hour; history keeps only moves of at least a point. */
const MIN_HISTORY_DELTA_FOR_DECAY = 1;

export type ScoreCause = "events" | "lead" | "model" | "decay" | "import";

export interface ScoringContext {
  /** The active models; each lead is scored by the one whose segment takes it. */
  models: ModelSet<KeyedModel>;
  now: number;
  cause: ScoreCause;
  /**
   * The change these crossings belong to (see withAlertBurst): their alerts wait for it to end.
   * Unset for new events, whose crossings alert lead by lead at once.
   */
  burstId?: number | undefined;
}

export interface ScoreSummary {
  scored: number;
  changed: number;
  transitions: number;
  alerts: number;
}

export function leadFacts(r: LeadFactsRow): LeadFacts {
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
  await lockLeads(tx, { ids: sorted });
  // New events change a lead's activity, and changed activity is written whatever the
  // breakdown says: the event path reads stored breakdowns only for the few leads it needs.
  const lazyBreakdown = newEvents !== undefined;
  const rows: ScoringRow[] = await scoringRows(tx, { ids: sorted, lazyBreakdown });

  // Each lead's model, chosen once from its facts; a lead whose model changed is rescored by it.
  const facts = rows.map(leadFacts);
  const picked = facts.map((f) => ctx.models.pick(f));

  // Leads whose stored activity was built under a model with other rule definitions are rebuilt
  // from their events; a weight or threshold change never needs this.
  const rebuild: number[] = [];
  const reusableFrom = new Map<string, boolean>();
  for (const [i, r] of rows.entries()) {
    const m = picked[i] as KeyedModel;
    if (r.s_activity && r.s_version !== null && r.s_version !== m.version) {
      const pair = `${r.s_version}>${m.version}`;
      let reusable = reusableFrom.get(pair);
      if (reusable === undefined) {
        reusable = activityReusable(await modelByVersion(tx, r.s_version), m.model).reusable;
        reusableFrom.set(pair, reusable);
      }
      if (!reusable) rebuild.push(r.id);
    }
  }
  const rebuildSet = new Set(rebuild);
  const rebuilt = await rebuildActivities(
    tx,
    rows.flatMap((r, i) =>
      rebuildSet.has(r.id)
        ? [
            {
              id: r.id,
              model: (picked[i] as KeyedModel).model,
              stored: r.s_activity,
              storedVersion: r.s_version,
            },
          ]
        : [],
    ),
  );

  // One positional row per changed lead: [lead_id, total, fit, engagement, grade, level, stage,
  // breakdown, activity (null when unchanged), last_event_at, write history, has a score row,
  // model key, model version, decay, next due at, group sums].
  const scoreRows: unknown[][] = [];
  const transitionRows: {
    lead_id: number;
    from_stage: Stage;
    to_stage: Stage;
    total: number;
    alert: boolean;
    owner: string | null;
    version: number;
  }[] = [];
  const unowned: Crossing[] = [];
  const at = new Date(ctx.now).toISOString();
  const scored = rows.map((r, i) => {
    const m = picked[i] as KeyedModel;
    const fresh = newEvents?.get(r.id);
    let activity = rebuilt.get(r.id) ?? r.s_activity ?? emptyActivity();
    // Rebuilt activity already holds every stored event, the new ones included.
    if (fresh && fresh.length > 0 && !rebuilt.has(r.id))
      activity = applyEvents(activity, fresh, m.model);
    const detailed = scoreDetailed(facts[i] as LeadFacts, activity, m.model, ctx.now);
    const { result } = detailed;
    const previous: Stage = r.s_stage ?? "lead";
    const stage = nextStage(previous, result.total, m.model.thresholds);
    const activityChanged = activity !== r.s_activity;
    // A lead that moved to another model is written even when its score stays the same.
    const modelMoved = r.s_key !== null && r.s_key !== m.key;
    // Only the breakdown can still tell whether this score changed.
    const undecided =
      !activityChanged &&
      !modelMoved &&
      r.s_total === result.total &&
      r.s_stage === stage &&
      r.s_grade === result.grade;
    // A due row, one of another model version or one a weight change cannot rescale is written
    // even when its score stays: its due time, decay, sums and lines are as of this scoring.
    const refresh =
      r.s_due === null || r.s_due <= ctx.now || r.s_version !== m.version || !r.s_rescalable;
    return {
      r,
      m,
      activity,
      detailed,
      result,
      previous,
      stage,
      activityChanged,
      undecided,
      refresh,
    };
  });
  if (lazyBreakdown) {
    const need = scored.filter((x) => x.undecided).map((x) => x.r.id);
    if (need.length > 0) {
      const stored = await storedBreakdowns(tx, { ids: need });
      const byId = new Map(stored.map((b) => [b.lead_id, b.breakdown]));
      for (const x of scored) if (x.undecided) x.r.s_breakdown = byId.get(x.r.id) ?? null;
    }
  }
  for (const x of scored) {
    const { r, m, activity, detailed, result, previous, stage, activityChanged, undecided } = x;
    summary.scored++;
    const scoreChanged = !undecided || !sameBreakdown(r.s_breakdown, result.breakdown);
    if (!scoreChanged && !activityChanged && r.s_version !== null && !x.refresh) continue;
    if (scoreChanged || activityChanged || r.s_version === null) summary.changed++;
    const due = nextDueAt({
      model: m.model,
      decay: detailed.decay,
      total: result.total,
      stage,
      positiveEngagement: detailed.positiveEngagement,
      scoredAt: ctx.now,
      activity,
    });
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
      m.key,
      m.version,
      detailed.decay,
      new Date(due).toISOString(),
      detailed.sums,
    ]);
    if (stage !== previous) {
      transitionRows.push({
        lead_id: r.id,
        from_stage: previous,
        to_stage: stage,
        total: result.total,
        alert: STAGE_RANK[stage] > STAGE_RANK[previous],
        owner: r.owner,
        version: m.version,
      });
      if (STAGE_RANK[stage] > STAGE_RANK[previous] && !r.owner)
        unowned.push({ leadId: r.id, facts: leadFacts(r) });
    }
  }
  // Routing gives the owner before the outbox row is written, so the DM goes to them.
  const routed = await routeCrossings(tx, unowned, at);
  for (const t of transitionRows) {
    const to = routed.get(t.lead_id);
    if (to) t.owner = to.owner;
  }

  if (scoreRows.length > 0) {
    summary.alerts = await writeScores(tx, {
      scoreRows,
      transitionRows,
      cause: ctx.cause,
      at,
      burstId: ctx.burstId,
    });
    summary.transitions = transitionRows.length;
  }
  return summary;
}

/**
 * A lead as its stage alert shows it. Lines a change of points left as they were are rescaled to
 * the points of the version that scored the lead, so the reasons add up to the total shown.
 */
export async function alertLead(db: DbOrTx, leadId: number): Promise<AlertLead | undefined> {
  const lead = await loadAlertLead(db, leadId);
  if (!lead?.staleLines) return lead;
  const { staleLines, ...rest } = lead;
  const model = await modelByVersion(db, staleLines.version);
  return { ...rest, breakdown: rescaledBreakdown(lead.breakdown, staleLines.decay, model) };
}

import { DUE_TOLERANCE, LINE_ROUNDING, MAX_DUE_MS } from "../core/due.js";
import { DAY_MS } from "../core/engine.js";
import { type ScoringModel, STAGE_RANK } from "../core/model.js";
import type { PointChange } from "../core/plan.js";
import type { Db, DbOrTx } from "../db/client.js";
import { scoringRows, writeScores } from "../db/queries/scores.js";
import { applyPointChanges, type PointUpdateResult, scoredIdRange } from "../db/queries/weights.js";
import { type Crossing, routeCrossings } from "./routing.js";
import { leadFacts, type ScoreSummary } from "./scoring.js";

/**
 * Lead ids per statement of a points update: at 100k leads one statement over all of them spilled
 * its intermediate rows to disk (npm run bench); slices this size stay in work_mem.
 */
export const POINTS_SLICE = 10_000;

/**
 * Slices applied at once, each in a transaction of its own: the statement is CPU-bound on the
 * database server, and two of them use two of its cores (npm run bench). On the embedded
 * database transactions take turns, so the slices run one after another there.
 */
export const POINTS_WORKERS = 2;

export interface PointsOptions {
  modelKey: string;
  version: number;
  model: ScoringModel;
  changes: readonly PointChange[];
  now: number;
  burstId?: number | undefined;
  /** Lead ids per statement (POINTS_SLICE unless given). */
  slice?: number | undefined;
  /**
   * Called in each slice's transaction with the id below which every lead has its new score
   * (the slices before it included), so progress commits with the slice (rescore runs).
   */
  onSlice?: ((tx: DbOrTx, doneThrough: number) => Promise<void>) | undefined;
  /** Called after each slice commits (keeps an alert burst alive). */
  afterSlice?: (() => Promise<void>) | undefined;
}

/**
 * Applies a change of points alone to the stored scores: one set-based update per slice of lead
 * ids (applyPointChanges), each slice in its own transaction with its stage crossings, which are
 * routed and recorded with their alerts exactly as the scorer records them (writeScores). Like a
 * rescore, the change lands slice by slice: a slice is all or nothing, and a lead already on the
 * new version (the scorer got there first) is left as it is, so a slice is never applied twice.
 * When a slice fails, no further slice starts and the first failure is thrown once the slices in
 * flight have settled.
 */
export async function applyPoints(db: Db, p: PointsOptions): Promise<ScoreSummary> {
  const m = p.model;
  const at = new Date(p.now).toISOString();
  const total: ScoreSummary = { scored: 0, changed: 0, transitions: 0, alerts: 0 };
  const range = await scoredIdRange(db, { modelKey: p.modelKey });
  if (!range) return total;
  // What every slice's statement shares: the change and the model's settings.
  const shared = {
    modelKey: p.modelKey,
    version: p.version,
    changes: p.changes.map((c) => [c.ruleId, c.group, c.from, c.points] as const),
    fitCap: m.fit.cap,
    engagementCap: m.engagement.cap,
    grades: m.grades,
    levels: m.levels,
    thresholds: m.thresholds,
    engagementRules: m.engagement.rules.map((x) => x.id),
    decaying: m.engagement.rules
      .filter((x) => x.points > 0 && x.halfLifeDays !== undefined)
      .map((x) => [x.id, x.points, (x.halfLifeDays as number) * DAY_MS] as const),
    due: { tolerance: DUE_TOLERANCE, lineRounding: LINE_ROUNDING, maxMs: MAX_DUE_MS },
    at,
  };
  const size = p.slice ?? POINTS_SLICE;
  const starts: number[] = [];
  for (let from = range.lo; from <= range.hi; from += size) starts.push(from);
  const done = new Set<number>();
  let next = 0;
  let failure: { err: unknown } | undefined;
  // Every lead below the first slice not yet committed (this one counted) has its new score.
  const doneThrough = (own: number): number => {
    let i = 0;
    while (i < starts.length && (i === own || done.has(i))) i++;
    return i < starts.length ? (starts[i] as number) - 1 : range.hi;
  };
  const worker = async (): Promise<void> => {
    while (!failure && next < starts.length) {
      const i = next++;
      const from = starts[i] as number;
      try {
        const s = await db.transaction(async (tx) => {
          const r = await applyPointChanges(tx, { ...shared, fromId: from, toId: from + size });
          const slice = await recordCrossings(tx, r, p.version, at, p.burstId);
          await p.onSlice?.(tx, doneThrough(i));
          return slice;
        });
        done.add(i);
        total.scored += s.scored;
        total.changed += s.changed;
        total.transitions += s.transitions;
        total.alerts += s.alerts;
        await p.afterSlice?.();
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: POINTS_WORKERS }, worker));
  if (failure) throw failure.err;
  return total;
}

/** A slice's stage crossings, routed and recorded with their alerts as the scorer records them. */
async function recordCrossings(
  tx: DbOrTx,
  r: PointUpdateResult,
  version: number,
  at: string,
  burstId: number | undefined,
): Promise<ScoreSummary> {
  const transitionRows = r.crossings.map((c) => ({
    ...c,
    alert: STAGE_RANK[c.to_stage] > STAGE_RANK[c.from_stage],
    version,
  }));
  const unownedIds = transitionRows.filter((t) => t.alert && !t.owner).map((t) => t.lead_id);
  if (unownedIds.length > 0) {
    const facts = await scoringRows(tx, { ids: unownedIds, lazyBreakdown: true });
    const unowned: Crossing[] = facts.map((f) => ({ leadId: f.id, facts: leadFacts(f) }));
    const routed = await routeCrossings(tx, unowned, at);
    for (const t of transitionRows) {
      const to = routed.get(t.lead_id);
      if (to) t.owner = to.owner;
    }
  }
  const alerts =
    transitionRows.length === 0
      ? 0
      : await writeScores(tx, {
          scoreRows: [],
          transitionRows,
          cause: "model",
          at,
          burstId,
        });
  return {
    scored: r.scored,
    changed: r.changed,
    transitions: transitionRows.length,
    alerts,
  };
}

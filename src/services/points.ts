import { DUE_TOLERANCE, LINE_ROUNDING, MAX_DUE_MS } from "../core/due.js";
import { DAY_MS } from "../core/engine.js";
import { type ScoringModel, STAGE_RANK } from "../core/model.js";
import type { PointChange } from "../core/plan.js";
import type { Db } from "../db/client.js";
import { scoringRows, writeScores } from "../db/queries/scores.js";
import { applyPointChanges, type PointUpdateResult, scoredIdRange } from "../db/queries/weights.js";
import { type Crossing, routeCrossings } from "./routing.js";
import { leadFacts, type ScoreSummary } from "./scoring.js";

/**
 * Lead ids per statement of a points update: at 100k leads one statement over all of them spilled
 * its intermediate rows to disk (npm run bench); slices this size stay in work_mem.
 */
export const POINTS_SLICE = 10_000;

export interface PointsOptions {
  modelKey: string;
  version: number;
  model: ScoringModel;
  changes: readonly PointChange[];
  now: number;
  burstId?: number | undefined;
  /** Lead ids per statement (POINTS_SLICE unless given). */
  slice?: number | undefined;
}

/**
 * Applies a change of points alone to the stored scores in one transaction: one set-based update
 * of the leads a changed rule applies to (applyPointChanges), then their stage crossings are
 * routed and recorded with their alerts exactly as the scorer records them (writeScores).
 */
export async function applyPoints(db: Db, p: PointsOptions): Promise<ScoreSummary> {
  const m = p.model;
  const at = new Date(p.now).toISOString();
  return db.transaction(async (tx) => {
    const r: PointUpdateResult = { scored: 0, changed: 0, crossings: [] };
    const range = await scoredIdRange(tx, { modelKey: p.modelKey });
    // One statement per slice of lead ids keeps each statement's working set in memory; the
    // slices share the transaction, so the change still applies all at once or not at all.
    const size = p.slice ?? POINTS_SLICE;
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
    for (let from = range?.lo ?? 0; range && from <= range.hi; from += size) {
      const slice = await applyPointChanges(tx, { ...shared, fromId: from, toId: from + size });
      r.scored += slice.scored;
      r.changed += slice.changed;
      r.crossings.push(...slice.crossings);
    }
    const transitionRows = r.crossings.map((c) => ({
      ...c,
      alert: STAGE_RANK[c.to_stage] > STAGE_RANK[c.from_stage],
      version: p.version,
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
            burstId: p.burstId,
          });
    return {
      scored: r.scored,
      changed: r.changed,
      transitions: transitionRows.length,
      alerts,
    };
  });
}

import type { SQL } from "drizzle-orm";
import type { ScoringModel } from "../core/model.js";
import { planRescore, type RescorePlan } from "../core/plan.js";
import type { Db } from "../db/client.js";
import { leadIdPage, planPredicate } from "../db/queries/scores.js";
import { burstsFor, DEFAULT_ALERT_BURST, withAlertBurst } from "./bursts.js";
import { activeModel } from "./models.js";
import { type ScoreCause, type ScoreSummary, scoreLeads } from "./scoring.js";

/**
 * Leads rescored per transaction: bounds memory and lock time; large enough to amortise trips.
 * At 1,000 a full rescore runs as fast as at 2,000 and peaks about 20 MB lower (npm run bench).
 */
export const RESCORE_CHUNK = 1_000;

export interface RescoreOptions {
  now: number;
  cause: ScoreCause;
  chunk?: number;
  onProgress?: (done: number) => void;
  /** LEADBOT_ALERT_BURST: more crossings than this become one summary. */
  alertBurst?: number | undefined;
}

export interface RescoreResult extends ScoreSummary {
  version: number;
  plan: RescorePlan["kind"];
  /** The crossings were announced as one summary instead of per-lead alerts. */
  summarised?: boolean;
}

/**
 * Rescores the leads a predicate on `lead_scores s` selects (every lead when undefined), one
 * chunk per transaction, walking lead ids in order so memory stays bounded at any size.
 */
async function rescoreWhere(
  db: Db,
  where: SQL | undefined,
  opts: RescoreOptions,
  plan: RescorePlan["kind"],
): Promise<RescoreResult> {
  const { model, version } = await activeModel(db);
  const walk = async (burstId: number | undefined, touch: () => Promise<void>) => {
    const total: RescoreResult = {
      version,
      plan,
      scored: 0,
      changed: 0,
      transitions: 0,
      alerts: 0,
    };
    const size = opts.chunk ?? RESCORE_CHUNK;
    let after = 0;
    for (;;) {
      const ids = await leadIdPage(db, { after, limit: size, where });
      if (ids.length === 0) break;
      after = ids[ids.length - 1]?.id ?? after;
      const summary = await db.transaction((tx) =>
        scoreLeads(
          tx,
          ids.map((r) => r.id),
          { model, version, now: opts.now, cause: opts.cause, burstId },
        ),
      );
      total.scored += summary.scored;
      total.changed += summary.changed;
      total.transitions += summary.transitions;
      total.alerts += summary.alerts;
      await touch();
      opts.onProgress?.(total.scored);
    }
    return total;
  };
  if (!burstsFor(opts.cause)) return walk(undefined, async () => undefined);
  const { value, closed } = await withAlertBurst(
    db,
    { cause: opts.cause, modelVersion: version, limit: opts.alertBurst ?? DEFAULT_ALERT_BURST },
    (scope) => walk(scope.burstId, scope.touch),
  );
  return { ...value, summarised: closed?.status === "summarised" };
}

/**
 * Rescores every lead against the active model (decay refresh, rebuilds). Weight and threshold
 * changes reuse the stored activity; only rules whose matching changed read events again.
 */
export function rescoreAll(db: Db, opts: RescoreOptions): Promise<RescoreResult> {
  return rescoreWhere(db, undefined, opts, "all");
}

/**
 * Applies a new active model to the stored scores, touching only the leads the change can move
 * (see planRescore); changes it cannot bound fall back to every lead.
 */
export async function rescoreForModelChange(
  db: Db,
  from: ScoringModel,
  opts: RescoreOptions,
): Promise<RescoreResult> {
  const { model } = await activeModel(db);
  const plan = planRescore(from, model);
  if (plan.kind === "none") {
    const { version } = await activeModel(db);
    return { version, plan: "none", scored: 0, changed: 0, transitions: 0, alerts: 0 };
  }
  if (plan.kind === "all") return rescoreWhere(db, undefined, opts, "all");
  return rescoreWhere(
    db,
    planPredicate({
      engagementRules: plan.engagementRules,
      fitRules: plan.fitRules,
      thresholds: plan.thresholds ? model.thresholds : undefined,
    }),
    opts,
    "targeted",
  );
}

import { randomUUID } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import { DEFAULT_MODEL_KEY, type ScoringModel } from "../core/model.js";
import { planRescore, pointChanges, type RescorePlan } from "../core/plan.js";
import { modelKeyOf } from "../core/segments.js";
import type { Db, DbOrTx } from "../db/client.js";
import {
  advanceRescoreRun,
  claimRescoreRun,
  finishRescoreRun,
  lastRescoreRunId,
  type RescoreRun,
  startRescoreRun,
} from "../db/queries/rescores.js";
import { dueAboveLead, dueLeadIds, leadIdPage, planPredicate } from "../db/queries/scores.js";
import { allKeepDecay } from "../db/queries/weights.js";
import { burstsFor, DEFAULT_ALERT_BURST, withAlertBurst } from "./bursts.js";
import { activeModels } from "./models.js";
import { applyPoints } from "./points.js";
import { type ScoreCause, type ScoreSummary, scoreLeads } from "./scoring.js";

/**
 * Leads rescored per transaction: bounds memory and lock time; large enough to amortise trips.
 * At 1,000 a full rescore runs as fast as at 2,000 and peaks about 20 MB lower (npm run bench).
 */
export const RESCORE_CHUNK = 1_000;

/** Who holds the rescores this process walks; a claim outlives a chunk by far. */
const WALKER = `${process.pid}-${randomUUID().slice(0, 8)}`;
const RUN_LEASE_SECONDS = 300;

export interface RescoreOptions {
  now: number;
  cause: ScoreCause;
  chunk?: number;
  onProgress?: (done: number) => void;
  /** LEADBOT_ALERT_BURST: more crossings than this become one summary. */
  alertBurst?: number | undefined;
}

export interface RescoreResult extends ScoreSummary {
  /** The version of the model the rescore was for (the default model's for a full rescore). */
  version: number;
  plan: RescorePlan["kind"];
  /** The crossings were announced as one summary instead of per-lead alerts. */
  summarised?: boolean;
}

/**
 * Rescores the leads a predicate on `lead_scores s` selects (every lead when undefined), one
 * chunk per transaction, walking lead ids in order so memory stays bounded at any size. A
 * `rescore_runs` row follows the walk chunk by chunk, so a restart finishes it (resumeRescores).
 */
async function rescoreWhere(
  db: Db,
  where: SQL | undefined,
  opts: RescoreOptions,
  plan: RescorePlan["kind"],
  key: string = DEFAULT_MODEL_KEY,
  resume?: RescoreRun,
  ids?: readonly number[],
): Promise<RescoreResult> {
  const runId =
    resume?.id ??
    (await startRescoreRun(db, {
      modelKey: key,
      cause: opts.cause,
      claimedBy: WALKER,
      leaseSeconds: RUN_LEASE_SECONDS,
    }));
  const models = await activeModels(db);
  const version = models.get(key)?.version ?? 0;
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
    let after = resume?.afterLeadId ?? 0;
    for (;;) {
      const page = ids
        ? pageOf(ids, after, size)
        : (await leadIdPage(db, { after, limit: size, where })).map((r) => r.id);
      if (page.length === 0) break;
      after = page[page.length - 1] ?? after;
      const last = after;
      const summary = await db.transaction(async (tx) => {
        const s = await scoreLeads(tx, page, { models, now: opts.now, cause: opts.cause, burstId });
        await advanceRescoreRun(tx, {
          id: runId,
          afterLeadId: last,
          leaseSeconds: RUN_LEASE_SECONDS,
        });
        return s;
      });
      total.scored += summary.scored;
      total.changed += summary.changed;
      total.transitions += summary.transitions;
      total.alerts += summary.alerts;
      await touch();
      opts.onProgress?.(total.scored);
    }
    return total;
  };
  if (!burstsFor(opts.cause)) {
    const total = await walk(undefined, async () => undefined);
    await finishRescoreRun(db, runId);
    return total;
  }
  const { value, closed } = await withAlertBurst(
    db,
    { cause: opts.cause, modelVersion: version, limit: opts.alertBurst ?? DEFAULT_ALERT_BURST },
    (scope) => walk(scope.burstId, scope.touch),
  );
  await finishRescoreRun(db, runId);
  return { ...value, summarised: closed?.status === "summarised" };
}

/** The ids after `after` in a sorted list, at most `limit` of them. */
function pageOf(ids: readonly number[], after: number, limit: number): number[] {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((ids[mid] as number) <= after) lo = mid + 1;
    else hi = mid;
  }
  return ids.slice(lo, lo + limit);
}

export interface ResumeOptions {
  /** One process owns the database (PGlite): every unfinished run was left by a dead one. */
  ignoreClaims?: boolean;
  chunk?: number;
  alertBurst?: number | undefined;
}

export interface ResumeResult {
  /** Runs finished, oldest first, with what each rescored. */
  runs: { id: number; cause: string; from: number; scored: number; changed: number }[];
}

/**
 * Finishes the rescores a dead process left half done: every lead after the run's progress is
 * rescored with the active models, which is correct for a full and a targeted rescore alike
 * (rescoring a lead is idempotent). Runs another live instance holds are left to it.
 */
export async function resumeRescores(
  db: Db,
  now: number,
  opts: ResumeOptions = {},
): Promise<ResumeResult> {
  // Runs started after this call are this process's own, in flight: never take those.
  const upTo = await lastRescoreRunId(db);
  const result: ResumeResult = { runs: [] };
  for (;;) {
    const run = await claimRescoreRun(db, {
      claimedBy: WALKER,
      leaseSeconds: RUN_LEASE_SECONDS,
      ignoreClaims: opts.ignoreClaims ?? false,
      upTo,
    });
    if (!run) return result;
    const r = await rescoreWhere(
      db,
      undefined,
      { now, cause: run.cause as ScoreCause, chunk: opts.chunk, alertBurst: opts.alertBurst },
      "all",
      run.modelKey,
      run,
    );
    result.runs.push({
      id: run.id,
      cause: run.cause,
      from: run.afterLeadId,
      scored: r.scored,
      changed: r.changed,
    });
  }
}

/**
 * Rescores every lead against the active models (decay refresh, rebuilds). Weight and threshold
 * changes reuse the stored activity; only rules whose matching changed read events again.
 */
export function rescoreAll(db: Db, opts: RescoreOptions): Promise<RescoreResult> {
  return rescoreWhere(db, undefined, opts, "all");
}

/**
 * The hourly decay refresh: rescores only the leads whose stored score is due (see nextDueAt),
 * which keeps every stored total within DUE_TOLERANCE of the exact one and makes each stage
 * crossing at the first refresh after it happens, as a full rescore would. A run left half done
 * is finished by resumeRescores as a full rescore: slower, and the same scores.
 */
export async function refreshDue(db: Db, opts: RescoreOptions): Promise<RescoreResult> {
  const ids = await dueLeadIds(db, { now: opts.now });
  return rescoreWhere(db, undefined, opts, "all", DEFAULT_MODEL_KEY, undefined, ids);
}

/**
 * Records that a model change is to be applied to the stored scores, claimed by this process:
 * call it in the transaction that activates the version, and pass the id to
 * rescoreForModelChange. Should the process die before that finishes, resumeRescores (at the
 * next start, or an instance's look once the claim lapses) rescores the model's leads, which
 * gives the same scores.
 */
export function startModelChangeRun(
  db: DbOrTx,
  p: { modelKey: string; cause: ScoreCause },
): Promise<number> {
  return startRescoreRun(db, {
    modelKey: p.modelKey,
    cause: p.cause,
    claimedBy: WALKER,
    leaseSeconds: RUN_LEASE_SECONDS,
  });
}

/**
 * Applies a model's new active version to the stored scores, touching only the leads the change
 * can move (see planRescore); changes it cannot bound fall back to every lead of that model. A new
 * model, or a changed segment, can move leads between models: every lead is walked then, and only
 * those whose model or score changed are written. `from` is the model's previous version, or
 * undefined when the model is new; `key` names the model when there is no `from`.
 */
export async function rescoreForModelChange(
  db: Db,
  from: ScoringModel | undefined,
  opts: RescoreOptions & {
    key?: string;
    /**
     * The run recorded with the version's activation (startModelChangeRun, in its transaction):
     * a crash before this call finishes leaves it for resumeRescores. One is started otherwise.
     */
    runId?: number | undefined;
  },
): Promise<RescoreResult> {
  const models = await activeModels(db);
  const key = from ? modelKeyOf(from) : (opts.key ?? DEFAULT_MODEL_KEY);
  const to = models.get(key);
  if (!to) throw new Error(`model ${key} is not active`);
  const run = (): RescoreRun | undefined =>
    opts.runId === undefined
      ? undefined
      : { id: opts.runId, modelKey: key, cause: opts.cause, afterLeadId: 0 };
  if (!from || JSON.stringify(from.segment) !== JSON.stringify(to.model.segment))
    return rescoreWhere(db, undefined, opts, "all", key, run());
  // With one model every scored lead is its lead: no filter keeps single-model plans as they were.
  const ofModel = (where: SQL | undefined): SQL | undefined =>
    models.ordered.length === 1
      ? where
      : where
        ? sql`s.model_key = ${key} and (${where})`
        : sql`s.model_key = ${key}`;
  const points = pointChanges(from, to.model);
  if (points && (await allKeepDecay(db, { modelKey: key }))) {
    // The change lands slice by slice: a run records how far, so a restart after a crash finishes
    // it (resumeRescores rescores every lead after that point, which gives the same scores).
    const runId =
      opts.runId ?? (await startModelChangeRun(db, { modelKey: key, cause: opts.cause }));
    const apply = async (burstId: number | undefined, touch: () => Promise<void>) => {
      const summary = await applyPoints(db, {
        modelKey: key,
        version: to.version,
        model: to.model,
        changes: points,
        now: opts.now,
        burstId,
        slice: opts.chunk,
        onSlice: (tx, doneThrough) =>
          advanceRescoreRun(tx, {
            id: runId,
            afterLeadId: doneThrough,
            leaseSeconds: RUN_LEASE_SECONDS,
          }),
        afterSlice: touch,
      });
      await finishRescoreRun(db, runId);
      return summary;
    };
    if (!burstsFor(opts.cause))
      return {
        version: to.version,
        plan: "targeted",
        ...(await apply(undefined, async () => undefined)),
      };
    const { value, closed } = await withAlertBurst(
      db,
      {
        cause: opts.cause,
        modelVersion: to.version,
        limit: opts.alertBurst ?? DEFAULT_ALERT_BURST,
      },
      (scope) => apply(scope.burstId, scope.touch),
    );
    return {
      version: to.version,
      plan: "targeted",
      ...value,
      summarised: closed?.status === "summarised",
    };
  }
  const plan = planRescore(from, to.model);
  if (plan.kind === "none") {
    if (opts.runId !== undefined) await finishRescoreRun(db, opts.runId);
    return { version: to.version, plan: "none", scored: 0, changed: 0, transitions: 0, alerts: 0 };
  }
  if (plan.kind === "all") return rescoreWhere(db, ofModel(undefined), opts, "all", key, run());
  const result = await rescoreWhere(
    db,
    ofModel(
      planPredicate({
        engagementRules: plan.engagementRules,
        fitRules: plan.fitRules,
        thresholds: plan.thresholds ? to.model.thresholds : undefined,
      }),
    ),
    opts,
    "targeted",
    key,
    run(),
  );
  if (plan.thresholds)
    await dueAboveLead(db, { modelKey: key, exceptVersion: to.version, now: opts.now });
  return result;
}

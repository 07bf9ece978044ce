import type { RuleDecay } from "./engine.js";
import { DAY_MS } from "./engine.js";
import type { Activity, ScoringModel, Stage } from "./model.js";

/**
 * Points a stored total may drift from the exact one before the lead is rescored: decay between
 * events moves every score a little, and rescoring every lead each hour for that does not scale.
 */
export const DUE_TOLERANCE = 1;
/** A lead that nothing will move is still rescored this often, so no row is forgotten. */
export const MAX_DUE_MS = 365 * DAY_MS;
/** Rounding of one breakdown line (to the cent) can move a total by at most this much. */
export const LINE_ROUNDING = 0.01;

/** What the due time is computed from: a lead's score as of `scoredAt`, and its model. */
export interface DueInput {
  model: ScoringModel;
  decay: RuleDecay;
  total: number;
  /** The stage after hysteresis. */
  stage: Stage;
  /** Positive engagement before the cap. */
  positiveEngagement: number;
  scoredAt: number;
}

/** The total below which a lead in `stage` falls to a lower stage, or undefined for `lead`. */
export function dropThreshold(stage: Stage, t: ScoringModel["thresholds"]): number | undefined {
  if (stage === "sql") return t.sql - t.hysteresis;
  if (stage === "mql") return t.mql - t.hysteresis;
  return undefined;
}

/**
 * When decay alone may have moved the total by DUE_TOLERANCE, or taken it through the threshold
 * that drops the lead's stage: the earliest time either can happen, never later. Between events a
 * decaying line only falls, and no faster than it does at the scoring time (each occurrence's
 * factor halves, so its rate does too), so the total falls at most `rate × elapsed`; points over
 * the engagement cap must go first, and each line's rounding is allowed for.
 */
export function decayDueAt(p: DueInput): number {
  const slop = LINE_ROUNDING * (Object.keys(p.decay).length + 2);
  let rate = 0;
  for (const rule of p.model.engagement.rules) {
    const d = p.decay[rule.id];
    if (!d || rule.points <= 0 || rule.halfLifeDays === undefined) continue;
    rate += (rule.points * d[1] * Math.LN2) / (rule.halfLifeDays * DAY_MS);
  }
  if (rate <= 0) return p.scoredAt + MAX_DUE_MS;
  const overCap = Math.max(0, p.positiveEngagement - p.model.engagement.cap - slop);
  let room = DUE_TOLERANCE - 2 * slop;
  const floor = dropThreshold(p.stage, p.model.thresholds);
  if (floor !== undefined) room = Math.min(room, p.total - floor - 2 * slop);
  const elapsed = Math.max(0, room + overCap) / rate;
  return p.scoredAt + Math.min(MAX_DUE_MS, elapsed);
}

/**
 * The next moment a lead's score changes by a step rather than by decay: an occurrence leaving
 * its rule's window (a positive one lowers the total, a negative one raises it) or the inactivity
 * penalty starting. After `now`; infinity when there is none.
 */
export function nextStepAt(activity: Activity, model: ScoringModel, now: number): number {
  let next = Number.POSITIVE_INFINITY;
  for (const rule of model.engagement.rules) {
    if (rule.windowDays === undefined) continue;
    const times = activity.rules[rule.id];
    if (!times) continue;
    const windowMs = rule.windowDays * DAY_MS;
    // Newest first: the oldest occurrence still counted leaves the window first.
    let oldest: number | undefined;
    let count = 0;
    for (const at of times) {
      if (count >= rule.maxCount) break;
      if (Math.max(0, now - at) > windowMs) continue;
      count++;
      oldest = at;
    }
    if (oldest !== undefined) next = Math.min(next, oldest + windowMs + 1);
  }
  const inactivity = model.engagement.inactivity;
  if (inactivity && activity.lastEventAt !== null) {
    const starts = activity.lastEventAt + inactivity.afterDays * DAY_MS + 1;
    if (starts > now) next = Math.min(next, starts);
  }
  return next;
}

/** When the lead must be rescored so its stored total and stage stay right (see both parts). */
export function nextDueAt(p: DueInput & { activity: Activity }): number {
  return Math.min(decayDueAt(p), nextStepAt(p.activity, p.model, p.scoredAt));
}

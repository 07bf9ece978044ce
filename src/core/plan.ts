import type { EngagementRule, FitRule, ScoringModel } from "./model.js";

/**
 * Which leads a model change can move. Scores depend only on the lead, its stored activity and
 * the model, so a change to one rule's points can only move leads that rule applied to; a
 * threshold change only leads near a threshold. Everything else keeps its score by construction.
 */
export type RescorePlan =
  | { kind: "none" }
  | { kind: "all"; reason: string }
  | {
      kind: "targeted";
      /** Engagement rules whose points or decay changed: leads with activity for them. */
      engagementRules: string[];
      /** Fit rules whose points changed: leads whose breakdown holds them. */
      fitRules: string[];
      /** Stage thresholds changed: leads whose stage the new thresholds would change. */
      thresholds: boolean;
    };

const json = (v: unknown) => JSON.stringify(v);

function sameFitMatch(a: FitRule, b: FitRule): boolean {
  return json(a.when) === json(b.when);
}

function sameEngagementMatch(a: EngagementRule, b: EngagementRule): boolean {
  return (
    a.event === b.event &&
    json(a.where) === json(b.where) &&
    a.maxCount === b.maxCount &&
    a.windowDays === b.windowDays
  );
}

export function planRescore(from: ScoringModel, to: ScoringModel): RescorePlan {
  if (from.fit.cap !== to.fit.cap || from.engagement.cap !== to.engagement.cap) {
    return { kind: "all", reason: "a group cap changed" };
  }
  if (json(from.engagement.inactivity) !== json(to.engagement.inactivity)) {
    return { kind: "all", reason: "the inactivity penalty changed" };
  }
  if (json(from.grades) !== json(to.grades) || json(from.levels) !== json(to.levels)) {
    return { kind: "all", reason: "grade or level bands changed" };
  }
  const fitFrom = new Map(from.fit.rules.map((r) => [r.id, r]));
  const fitTo = new Map(to.fit.rules.map((r) => [r.id, r]));
  const fitRules: string[] = [];
  for (const [id, rule] of fitTo) {
    const old = fitFrom.get(id);
    if (!old || !sameFitMatch(old, rule))
      return { kind: "all", reason: `fit rule ${id} matches differently` };
    if (old.points !== rule.points || old.label !== rule.label) fitRules.push(id);
  }
  for (const id of fitFrom.keys()) if (!fitTo.has(id)) fitRules.push(id);

  const engFrom = new Map(from.engagement.rules.map((r) => [r.id, r]));
  const engTo = new Map(to.engagement.rules.map((r) => [r.id, r]));
  const engagementRules: string[] = [];
  for (const [id, rule] of engTo) {
    const old = engFrom.get(id);
    if (!old || !sameEngagementMatch(old, rule)) {
      return { kind: "all", reason: `engagement rule ${id} matches differently` };
    }
    if (
      old.points !== rule.points ||
      old.halfLifeDays !== rule.halfLifeDays ||
      old.label !== rule.label
    ) {
      engagementRules.push(id);
    }
  }
  for (const id of engFrom.keys()) if (!engTo.has(id)) engagementRules.push(id);

  const thresholds = json(from.thresholds) !== json(to.thresholds);
  if (fitRules.length === 0 && engagementRules.length === 0 && !thresholds) return { kind: "none" };
  return { kind: "targeted", engagementRules, fitRules, thresholds };
}

/** One rule whose points alone changed, and everything the stored line needs to be rewritten. */
export interface PointChange {
  ruleId: string;
  group: "fit" | "engagement";
  label: string;
  /** The new points. */
  points: number;
  /** The points before the change (same sign: a sign change is not points alone). */
  from: number;
}

/**
 * The rules of a change that moves points and nothing else, or undefined when it changes more
 * (then the leads are rescored one by one). Points alone are a set-based update of the stored
 * lines: a fit line is its points, an engagement line its points times the stored decay sum. A
 * sign change is more: the inactivity clock ignores events only negative rules match.
 */
export function pointChanges(from: ScoringModel, to: ScoringModel): PointChange[] | undefined {
  const { fit: ff, engagement: fe, ...fromRest } = from;
  const { fit: tf, engagement: te, ...toRest } = to;
  if (json(fromRest) !== json(toRest)) return undefined;
  if (ff.cap !== tf.cap || fe.cap !== te.cap || json(fe.inactivity) !== json(te.inactivity))
    return undefined;
  if (ff.rules.length !== tf.rules.length || fe.rules.length !== te.rules.length) return undefined;
  const changes: PointChange[] = [];
  const compare = (
    a: { points: number; id: string },
    b: { points: number; id: string; label: string },
    group: PointChange["group"],
  ) => {
    if (json({ ...a, points: 0 }) !== json({ ...b, points: 0 })) return false;
    if (Math.sign(a.points) !== Math.sign(b.points)) return false;
    if (a.points !== b.points)
      changes.push({ ruleId: b.id, group, label: b.label, points: b.points, from: a.points });
    return true;
  };
  for (const [i, rule] of tf.rules.entries())
    if (!compare(ff.rules[i] as FitRule, rule, "fit")) return undefined;
  for (const [i, rule] of te.rules.entries())
    if (!compare(fe.rules[i] as EngagementRule, rule, "engagement")) return undefined;
  return changes.length > 0 ? changes : undefined;
}

// Over 400 lines on purpose: conditions, activity and scoring make one scorer, whose rounding
// and decay rules read best side by side.
import type {
  Activity,
  ActivityEvent,
  BreakdownEntry,
  Condition,
  EngagementRule,
  Grade,
  LeadFacts,
  Level,
  ScoreResult,
  ScoringModel,
  Stage,
} from "./model.js";
import { STAGE_RANK } from "./model.js";

export const DAY_MS = 86_400_000;

/** Rule id of the breakdown line that removes fit points above the fit cap. */
export const FIT_CAP_RULE = "fit_cap";
/** Rule id of the breakdown line that removes engagement points above the engagement cap. */
export const ENGAGEMENT_CAP_RULE = "engagement_cap";
/** Rule id of the inactivity penalty's breakdown line. */
export const INACTIVITY_RULE = "inactivity";

/** Scores are shown and compared to two decimals; rounding each line keeps the sum exact. */
function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function emptyActivity(): Activity {
  return { rules: {}, lastEventAt: null };
}

// ---------------------------------------------------------------------------------------------
// Conditions

function lookup(source: Record<string, unknown> | null | undefined, path: string): unknown {
  if (!source) return undefined;
  if (path in source) return source[path];
  let cur: unknown = source;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function leadValue(lead: LeadFacts, field: string): unknown {
  if (field.startsWith("attributes.")) return lookup(lead.attributes, field.slice(11));
  return (lead as Record<string, unknown>)[field];
}

function isPresent(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "string") return v.trim() !== "";
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "") {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Lower-case words joined by single spaces: "Co-Founder & CEO" → "co founder ceo". */
function words(s: string): string {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join(" ");
}

/**
 * Each hasWord condition's phrases as ` words ` to look for, made once per condition object:
 * a model's conditions are evaluated for every lead scored, and their phrases never change.
 */
const phrasesOf = new WeakMap<readonly string[], string[]>();
function wordPhrases(values: readonly string[]): string[] {
  let out = phrasesOf.get(values);
  if (!out) {
    out = values.map((phrase) => ` ${words(phrase)} `);
    phrasesOf.set(values, out);
  }
  return out;
}

function norm(v: unknown): string {
  return String(v).trim().toLowerCase();
}

/** Equality that ignores case and surrounding spaces, and compares numbers by value. */
function sameValue(actual: unknown, expected: string | number | boolean): boolean {
  if (actual === null || actual === undefined) return false;
  if (typeof expected === "number") return asNumber(actual) === expected;
  if (typeof expected === "boolean") {
    return typeof actual === "boolean" ? actual === expected : norm(actual) === String(expected);
  }
  return norm(actual) === norm(expected);
}

function holds(c: Condition, value: unknown): boolean {
  switch (c.op) {
    case "equals":
      return Array.isArray(value)
        ? value.some((v) => sameValue(v, c.value))
        : sameValue(value, c.value);
    case "oneOf":
      return c.values.some((x) =>
        Array.isArray(value) ? value.some((v) => sameValue(v, x)) : sameValue(value, x),
      );
    case "containsAny": {
      if (!isPresent(value)) return false;
      const hay = Array.isArray(value) ? value.map(norm).join("\n") : norm(value);
      return c.values.some((needle) => hay.includes(needle.toLowerCase()));
    }
    case "hasWord": {
      if (!isPresent(value)) return false;
      const text = ` ${words(Array.isArray(value) ? value.join(" ") : String(value))} `;
      return wordPhrases(c.values).some((phrase) => text.includes(phrase));
    }
    case "range": {
      const n = asNumber(value);
      if (n === undefined) return false;
      return (c.min === undefined || n >= c.min) && (c.max === undefined || n <= c.max);
    }
    case "present":
      return isPresent(value);
    case "absent":
      return !isPresent(value);
  }
}

export function fitRuleMatches(lead: LeadFacts, when: readonly Condition[]): boolean {
  return when.every((c) => holds(c, leadValue(lead, c.field)));
}

export function engagementRuleMatches(rule: EngagementRule, e: ActivityEvent): boolean {
  if (rule.event !== e.type) return false;
  return rule.where.every((c) => holds(c, lookup(e.properties, c.field)));
}

// ---------------------------------------------------------------------------------------------
// Activity: what the scorer keeps per lead instead of re-reading events

/** Inserts `at` into a newest-first list, keeping at most `max` entries. */
function insertNewestFirst(list: number[], at: number, max: number): void {
  let i = 0;
  while (i < list.length && (list[i] as number) >= at) i++;
  if (i >= max) return;
  list.splice(i, 0, at);
  if (list.length > max) list.length = max;
}

/**
 * Folds new events into a lead's activity. Returns the same object when nothing changed, so
 * callers can skip writing it. The result does not depend on the order of the events.
 */
export function applyEvents(
  activity: Activity,
  events: readonly ActivityEvent[],
  model: ScoringModel,
): Activity {
  if (events.length === 0) return activity;
  let rules: Record<string, number[]> | undefined;
  let lastEventAt = activity.lastEventAt;
  for (const e of events) {
    if (!Number.isFinite(e.at)) continue;
    let matchedPositive = false;
    let matchedNegative = false;
    for (const rule of model.engagement.rules) {
      if (!engagementRuleMatches(rule, e)) continue;
      if (rule.points > 0) matchedPositive = true;
      else matchedNegative = true;
      rules ??= Object.fromEntries(Object.entries(activity.rules).map(([k, v]) => [k, [...v]]));
      const list = rules[rule.id] ?? [];
      insertNewestFirst(list, e.at, rule.maxCount);
      rules[rule.id] = list;
    }
    // An unsubscribe or a bounce is not engagement: it must not reset the inactivity clock.
    const engaged = matchedPositive || !matchedNegative;
    if (engaged && (lastEventAt === null || e.at > lastEventAt)) lastEventAt = e.at;
  }
  if (!rules && lastEventAt === activity.lastEventAt) return activity;
  return { rules: rules ?? activity.rules, lastEventAt };
}

export function activityFromEvents(
  events: readonly ActivityEvent[],
  model: ScoringModel,
): Activity {
  return applyEvents(emptyActivity(), events, model);
}

/**
 * Whether activity built under `from` is exact under `to`: every rule of `to` must have existed
 * in `from` matching the same events, and kept at least as many occurrences. Points, decay,
 * windows, caps and thresholds are applied at scoring time, so changing them never needs events.
 */
export function activityReusable(
  from: ScoringModel,
  to: ScoringModel,
): { reusable: boolean; reason?: string } {
  const old = new Map(from.engagement.rules.map((r) => [r.id, r]));
  for (const rule of to.engagement.rules) {
    const prev = old.get(rule.id);
    if (!prev) return { reusable: false, reason: `rule ${rule.id} is new` };
    if (prev.event !== rule.event || JSON.stringify(prev.where) !== JSON.stringify(rule.where)) {
      return { reusable: false, reason: `rule ${rule.id} matches other events` };
    }
    if (rule.maxCount > prev.maxCount) {
      return { reusable: false, reason: `rule ${rule.id} counts more occurrences` };
    }
    // The inactivity clock ignores events that only negative rules match.
    if (Math.sign(rule.points) !== Math.sign(prev.points)) {
      return { reusable: false, reason: `rule ${rule.id} changed sign` };
    }
  }
  return { reusable: true };
}

// ---------------------------------------------------------------------------------------------
// Scoring

export function gradeOf(fit: number, bands: ScoringModel["grades"]): Grade {
  if (fit >= bands.A) return "A";
  if (fit >= bands.B) return "B";
  if (fit >= bands.C) return "C";
  return "D";
}

export function levelOf(engagement: number, bands: ScoringModel["levels"]): Level {
  if (engagement >= bands["1"]) return 1;
  if (engagement >= bands["2"]) return 2;
  if (engagement >= bands["3"]) return 3;
  return 4;
}

/** The stage a total reaches on its own, before hysteresis. */
export function stageFor(total: number, t: ScoringModel["thresholds"]): Stage {
  if (total >= t.sql) return "sql";
  if (total >= t.mql) return "mql";
  return "lead";
}

export function stageRank(s: Stage): number {
  return STAGE_RANK[s];
}

/**
 * The stage after a score change. Rising is immediate; falling needs the total to drop
 * `hysteresis` below the threshold that let the lead in, so a lead hovering at a threshold does
 * not flap (and is not re-alerted).
 */
export function nextStage(previous: Stage, total: number, t: ScoringModel["thresholds"]): Stage {
  const raw = stageFor(total, t);
  if (STAGE_RANK[raw] >= STAGE_RANK[previous]) return raw;
  const h = t.hysteresis;
  if (previous === "sql" && total >= t.sql - h) return "sql";
  if (total >= t.mql - h) return "mql";
  return "lead";
}

/**
 * Points of one engagement rule at `now`: occurrences inside the window, each decayed. The
 * decayed occurrences are summed first and multiplied by the points once, so a change of points
 * alone gives the same line from the stored sum (see RuleDecay) as from the occurrences.
 */
function engagementLine(rule: EngagementRule, times: readonly number[], now: number) {
  let count = 0;
  let factors = 0;
  const windowMs =
    rule.windowDays === undefined ? Number.POSITIVE_INFINITY : rule.windowDays * DAY_MS;
  const halfLifeMs = rule.halfLifeDays === undefined ? undefined : rule.halfLifeDays * DAY_MS;
  for (const at of times) {
    if (count >= rule.maxCount) break;
    // An event stamped slightly in the future (clock skew) counts as happening now.
    const age = Math.max(0, now - at);
    if (age > windowMs) continue;
    count++;
    factors += halfLifeMs === undefined ? 1 : 0.5 ** (age / halfLifeMs);
  }
  return { count, factors, ...ruleLine(rule.points, count, factors) };
}

/** A rule's line from its counted occurrences and their summed decay factors. */
export function ruleLine(
  points: number,
  count: number,
  factors: number,
): { basePoints: number; points: number } {
  return { basePoints: round2(points * count), points: round2(points * factors) };
}

/**
 * Per engagement rule with counted occurrences: [count, summed decay factors] as of the scoring
 * time. A change of a rule's points alone rescales its line from this (ruleLine), with no events
 * and no activity, which is what lets a weight change be one set-based update.
 */
export type RuleDecay = Record<string, [number, number]>;

/**
 * A score's group sums before the caps, as the engine adds them up: [fit points above zero
 * (rounded), fit points below zero, engagement points above zero (rounded), engagement points
 * below zero (the inactivity penalty included)]. A change of one rule's points moves them by that
 * rule's line, and the caps and totals follow from them without the other lines.
 */
export type GroupSums = [number, number, number, number];

export interface DetailedScore {
  result: ScoreResult;
  decay: RuleDecay;
  /** Positive engagement points before the cap. */
  positiveEngagement: number;
  sums: GroupSums;
}

/** A matched fit rule's line: its points, once. */
function fitLine(rule: { id: string; label: string; points: number }): BreakdownEntry {
  const points = round2(rule.points);
  return { ruleId: rule.id, label: rule.label, group: "fit", count: 1, basePoints: points, points };
}

/** The line that takes a group's positive points above its cap back down to it. */
function capLine(group: "fit" | "engagement", cap: number, positive: number): BreakdownEntry {
  const cut = round2(cap - positive);
  return {
    ruleId: group === "fit" ? FIT_CAP_RULE : ENGAGEMENT_CAP_RULE,
    label: `${group === "fit" ? "Fit" : "Engagement"} points capped at ${cap}`,
    group,
    count: 1,
    basePoints: cut,
    points: cut,
  };
}

/**
 * Scores a lead: fit from who it is, engagement from what it did (decayed, windowed, counted up
 * to a limit), group caps, the inactivity penalty, grade and level. Every point of the total is
 * one line of the breakdown, caps included, so the breakdown always sums to the total.
 */
export function score(
  lead: LeadFacts,
  activity: Activity,
  model: ScoringModel,
  now: number,
): ScoreResult {
  return scoreDetailed(lead, activity, model, now).result;
}

/** score(), with what the store keeps beside it: per-rule decay and uncapped engagement. */
export function scoreDetailed(
  lead: LeadFacts,
  activity: Activity,
  model: ScoringModel,
  now: number,
): DetailedScore {
  const decay: RuleDecay = {};
  const breakdown: BreakdownEntry[] = [];

  let fitPositive = 0;
  let fitNegative = 0;
  for (const rule of model.fit.rules) {
    if (!fitRuleMatches(lead, rule.when)) continue;
    const line = fitLine(rule);
    if (line.points > 0) fitPositive += line.points;
    else fitNegative += line.points;
    breakdown.push(line);
  }
  fitPositive = round2(fitPositive);
  const fitSum = fitPositive;
  if (fitPositive > model.fit.cap) {
    breakdown.push(capLine("fit", model.fit.cap, fitPositive));
    fitPositive = model.fit.cap;
  }
  const fit = round2(fitPositive + fitNegative);

  let engPositive = 0;
  let engNegative = 0;
  for (const rule of model.engagement.rules) {
    const times = activity.rules[rule.id];
    if (!times || times.length === 0) continue;
    const { factors, ...line } = engagementLine(rule, times, now);
    if (line.count > 0) decay[rule.id] = [line.count, factors];
    if (line.count === 0 || line.points === 0) continue;
    if (line.points > 0) engPositive += line.points;
    else engNegative += line.points;
    breakdown.push({ ruleId: rule.id, label: rule.label, group: "engagement", ...line });
  }
  engPositive = round2(engPositive);
  const positiveEngagement = engPositive;
  if (engPositive > model.engagement.cap) {
    breakdown.push(capLine("engagement", model.engagement.cap, engPositive));
    engPositive = model.engagement.cap;
  }
  const inactivity = model.engagement.inactivity;
  if (
    inactivity &&
    activity.lastEventAt !== null &&
    now - activity.lastEventAt > inactivity.afterDays * DAY_MS
  ) {
    const points = round2(inactivity.points);
    engNegative += points;
    breakdown.push({
      ruleId: INACTIVITY_RULE,
      label: `No activity for over ${inactivity.afterDays} days`,
      group: "engagement",
      count: 1,
      basePoints: points,
      points,
    });
  }
  const engagement = round2(engPositive + engNegative);
  const total = round2(fit + engagement);
  const grade = gradeOf(fit, model.grades);
  const level = levelOf(engagement, model.levels);
  return {
    result: {
      total,
      fit,
      engagement,
      grade,
      level,
      matrix: `${grade}${level}`,
      stage: stageFor(total, model.thresholds),
      breakdown,
    },
    decay,
    positiveEngagement,
    // Negative sums are kept to the cent like every line in them, so sums moved by many changes
    // of points do not gather float error.
    sums: [fitSum, round2(fitNegative), positiveEngagement, round2(engNegative)],
  };
}

/**
 * The breakdown a full rescore at the lead's scoring time would give under `model`, from a stored
 * breakdown whose points are another version's and the per-rule decay kept with it. A change of
 * points alone does not rewrite stored lines (the store keeps the version they were written
 * under): the fit rules that matched and the inactivity line are taken from them, every points
 * figure and cap line is recomputed here, exactly as scoreDetailed computes them.
 */
export function rescaledBreakdown(
  stored: readonly BreakdownEntry[],
  decay: RuleDecay,
  model: ScoringModel,
): BreakdownEntry[] {
  const matched = new Set(stored.filter((e) => e.group === "fit").map((e) => e.ruleId));
  const breakdown: BreakdownEntry[] = [];
  let fitPositive = 0;
  for (const rule of model.fit.rules) {
    if (!matched.has(rule.id)) continue;
    const line = fitLine(rule);
    if (line.points > 0) fitPositive += line.points;
    breakdown.push(line);
  }
  fitPositive = round2(fitPositive);
  if (fitPositive > model.fit.cap) breakdown.push(capLine("fit", model.fit.cap, fitPositive));
  let engPositive = 0;
  for (const rule of model.engagement.rules) {
    const kept = decay[rule.id];
    if (!kept) continue;
    const [count, factors] = kept;
    const line = ruleLine(rule.points, count, factors);
    if (count === 0 || line.points === 0) continue;
    if (line.points > 0) engPositive += line.points;
    breakdown.push({ ruleId: rule.id, label: rule.label, group: "engagement", count, ...line });
  }
  engPositive = round2(engPositive);
  if (engPositive > model.engagement.cap)
    breakdown.push(capLine("engagement", model.engagement.cap, engPositive));
  const inactivity = stored.find((e) => e.ruleId === INACTIVITY_RULE);
  if (inactivity) breakdown.push(inactivity);
  return breakdown;
}

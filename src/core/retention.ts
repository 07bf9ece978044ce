import { activityFromEvents } from "./engine.js";
import type { Activity, ActivityEvent, EngagementRule, ScoringModel } from "./model.js";

function sameMatching(a: EngagementRule, b: EngagementRule): boolean {
  return a.event === b.event && JSON.stringify(a.where) === JSON.stringify(b.where);
}

/**
 * A lead's activity under `to`, rebuilt from its kept events, when raw events before `keptFrom`
 * were dropped by retention (null: every event is kept, and the rebuild is the plain one).
 *
 * For a rule that matched the same events under `from` (the model the stored activity was built
 * by), occurrences before `keptFrom` come from the stored activity and later ones from the
 * events: exact whenever the cap did not grow, because the stored list held the newest
 * occurrences up to the old cap. A rule that is new, or matches other events now, counts only
 * kept events: what dropped events would have matched is no longer known. Kept events from
 * before `keptFrom` (late arrivals not yet swept) are already in the stored lists, so they count
 * only for such rules. The inactivity clock keeps the stored last event when it is older than
 * `keptFrom` and no kept event is later.
 */
export function rebuildActivity(
  events: readonly ActivityEvent[],
  to: ScoringModel,
  retained: { keptFrom: number; stored: Activity; from: ScoringModel } | null,
): Activity {
  const rebuilt = activityFromEvents(events, to);
  if (!retained) return rebuilt;
  const { keptFrom, stored, from } = retained;
  const previous = new Map(from.engagement.rules.map((r) => [r.id, r]));
  const rules: Record<string, number[]> = { ...rebuilt.rules };
  for (const rule of to.engagement.rules) {
    const prev = previous.get(rule.id);
    if (!prev || !sameMatching(prev, rule)) continue;
    const older = (stored.rules[rule.id] ?? []).filter((t) => t < keptFrom);
    if (older.length === 0) continue;
    const newer = (rebuilt.rules[rule.id] ?? []).filter((t) => t >= keptFrom);
    // Both lists are newest first and every kept time is later than every older one.
    rules[rule.id] = [...newer, ...older].slice(0, rule.maxCount);
  }
  let lastEventAt = rebuilt.lastEventAt;
  if (
    stored.lastEventAt !== null &&
    stored.lastEventAt < keptFrom &&
    (lastEventAt === null || stored.lastEventAt > lastEventAt)
  )
    lastEventAt = stored.lastEventAt;
  return { rules, lastEventAt };
}

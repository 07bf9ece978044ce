import type { LostReason } from "../services/team.js";
import type { Rng } from "./random.js";
import { sigmoid } from "./random.js";
import type { DemoLeadInput, DemoOutcome, Seniority } from "./types.js";
import { DEMO_USER } from "./vocabulary.js";

/** Outcome simulation: whether sales worked a lead, and whether it was won, lost or not a fit. */

const NOT_A_FIT_NOTES: Record<string, string> = {
  student: "Student research project, no buying intent.",
  job_seeker: "Looking for a job, not a product.",
  too_small: "Team too small for a sales tool.",
  wrong_segment: "Outside our market segment.",
};

const LOST_WEIGHTS: readonly (readonly [LostReason, number])[] = [
  ["no_decision", 25],
  ["chose_competitor", 20],
  ["no_budget", 18],
  ["bad_timing", 15],
  ["no_response", 17],
  ["other", 5],
];
const OTHER_NOTES = [
  "Procurement froze all new vendors.",
  "Champion left the company.",
  "Built it in-house.",
];
export function outcomeFor(
  rng: Rng,
  lead: DemoLeadInput,
  t: { fit: number; intent: number; seniority: Seniority; jobSeeker: boolean; engaged: boolean },
): DemoOutcome | undefined {
  // Sales works engaged leads; some of them are still open at `now`.
  if (!t.engaged || !rng.chance(0.6)) return undefined;
  const by = lead.owner ?? DEMO_USER;
  if (t.fit < 0.38 && rng.chance(0.7)) {
    const why =
      t.seniority === "student"
        ? "student"
        : t.jobSeeker
          ? "job_seeker"
          : lead.employees <= 10
            ? "too_small"
            : "wrong_segment";
    return { email: lead.email, outcome: "not_a_fit", reason: why, note: NOT_A_FIT_NOTES[why], by };
  }
  // About a quarter of worked leads close; the best fit, most engaged ones close most often.
  const won = rng.chance(sigmoid(-5.5 + 3.5 * t.fit + 4 * t.intent));
  if (won) return { email: lead.email, outcome: "won", by };
  const reason = rng.weighted(LOST_WEIGHTS);
  return {
    email: lead.email,
    outcome: "lost",
    reason,
    ...(reason === "other" ? { note: rng.pick(OTHER_NOTES) } : {}),
    by,
  };
}

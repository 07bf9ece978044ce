import type {
  Backtest,
  DataNeed,
  LearnExample,
  RuleEvidence,
  Suggestion,
} from "../core/learn/index.js";
import type { ActivityEvent } from "../core/model.js";
import type { Db, DbOrTx } from "../db/client.js";
import {
  insertSuggestion,
  learnEvents,
  learnLeads,
  pendingSuggestion,
  suggestionOfProposal,
} from "../db/queries/learn.js";
import { fitInWorker } from "./fit/index.js";
import { activeModel } from "./models.js";
import { createProposal, type Preview, type ProposalRow } from "./proposals.js";
import { leadFacts } from "./scoring.js";

/** Who proposes what the weekly job learns. */
export const LEADBOT_ACTOR = "leadbot";
/** The weekly job proposes only a model that ranks held-out outcomes this much better (AUC). */
export const SUGGEST_MARGIN = 0.02;
/** One seed for every fit: the same outcomes always give the same suggestion. */
const FIT_SEED = 1;

/** What a learned proposal carries beside its model: enough to judge it without refitting. */
export interface Learned {
  evidence: RuleEvidence[];
  backtest: Backtest;
  need: DataNeed;
  fit: Extract<Suggestion, { ok: true }>["fit"];
}

export type SuggestResult =
  | { ok: false; code: "not_enough_data" | "no_signal"; message: string; need: DataNeed }
  | {
      ok: true;
      learned: Learned;
      /** Absent on a dry run. */
      proposal?: ProposalRow;
      preview?: Preview;
    };

export type WeeklyResult =
  | { proposed: false; reason: string }
  | { proposed: true; reason: string; proposal: ProposalRow; learned: Learned };

/**
 * Every lead as a learning example, read set-based: facts, the events it had when its latest
 * outcome was recorded (all of them up to `now` when it has none), and the outcome. Leads without
 * an outcome are the population the thresholds are recalibrated on.
 */
export async function gatherExamples(db: DbOrTx, now: number): Promise<LearnExample[]> {
  const [leads, events] = await Promise.all([
    learnLeads(db),
    learnEvents(db, { now: new Date(now) }),
  ]);
  const byLead = new Map<number, ActivityEvent[]>();
  for (const e of events) {
    let list = byLead.get(e.lead_id);
    if (!list) {
      list = [];
      byLead.set(e.lead_id, list);
    }
    list.push({ type: e.type, at: e.at, properties: e.properties });
  }
  return leads.map((r) => ({
    lead: leadFacts(r),
    events: byLead.get(r.id) ?? [],
    outcome: r.outcome,
    // An outcome stamped after `now` (a clock behind the database's) is seen as of now.
    at: Math.min(r.outcome_at ?? now, now),
  }));
}

const pct = (x: number | null) => (x === null ? "n/a" : `${Math.round(x * 100)}%`);
const auc = (x: number | null) => (x === null ? "n/a" : x.toFixed(3));

/** The proposal's reason: what the backtest on held-out outcomes says, in one paragraph. */
export function summarizeBacktest(learned: Learned): string {
  const { backtest: b, fit, evidence } = learned;
  return [
    `Learned from ${fit.trainingOutcomes} outcomes; tested on ${b.heldOut.won} won and ${b.heldOut.notWon} lost or not a fit held out from the fit.`,
    `AUC ${auc(b.suggested.auc)} suggested vs ${auc(b.current.auc)} current;`,
    `at MQL precision ${pct(b.suggested.precision)} vs ${pct(b.current.precision)}, recall ${pct(b.suggested.recall)} vs ${pct(b.current.recall)}.`,
    `${evidence.length} rules.`,
  ].join(" ");
}

/**
 * Fits a suggested model from the recorded outcomes and, unless `dryRun` or `accept` refuses it,
 * proposes it as a whole model with its evidence and backtest kept beside the proposal. Below the
 * data need (or when no rule predicts anything) it says so instead.
 */
export async function suggestModelChange(
  db: Db,
  p: {
    by: string;
    now: number;
    dryRun?: boolean | undefined;
    /** Whether to propose what was learned (the weekly job's margin rule). */
    accept?: ((learned: Learned) => boolean) | undefined;
  },
): Promise<SuggestResult> {
  const [active, examples] = await Promise.all([activeModel(db), gatherExamples(db, p.now)]);
  // Seconds of CPU at scale: off the event loop, so Slack and the API keep answering.
  const s = await fitInWorker(examples, active.model, { seed: FIT_SEED });
  if (!s.ok) {
    return {
      ok: false,
      code: s.code,
      message: s.code === "no_signal" ? `${s.message} ${s.need.message}` : s.need.message,
      need: s.need,
    };
  }
  const learned: Learned = {
    evidence: s.evidence,
    backtest: s.backtest,
    need: s.need,
    fit: s.fit,
  };
  if (p.dryRun || (p.accept && !p.accept(learned))) return { ok: true, learned };
  const { proposal, preview } = await createProposal(db, {
    change: { kind: "model", model: s.model },
    by: p.by,
    note: summarizeBacktest(learned),
    now: p.now,
    with: (tx, created) =>
      insertSuggestion(tx, {
        proposalId: created.id,
        evidence: learned.evidence,
        backtest: learned.backtest,
        need: learned.need,
        fit: learned.fit,
      }),
  });
  return { ok: true, learned, proposal, preview };
}

/** The evidence and backtest a learned proposal was made with; undefined for a hand-made one. */
export async function learnedOf(db: DbOrTx, proposalId: number): Promise<Learned | undefined> {
  const row = await suggestionOfProposal(db, { proposalId });
  if (!row) return undefined;
  // Written by suggestModelChange from these very types.
  return {
    evidence: row.evidence as RuleEvidence[],
    backtest: row.backtest as Backtest,
    need: row.need as DataNeed,
    fit: row.fit as Learned["fit"],
  };
}

/** Whether `suggested` ranks held-out outcomes at least `margin` better than `current`. */
export function beatsByMargin(backtest: Backtest, margin: number): boolean {
  const { current, suggested } = backtest;
  if (suggested.auc === null) return false;
  return suggested.auc - (current.auc ?? 0.5) >= margin - 1e-12;
}

/**
 * The weekly job: proposes a suggestion only when none is pending already and it beats the
 * current model's held-out AUC by `margin`.
 */
export async function weeklySuggestion(
  db: Db,
  p: { now: number; margin?: number | undefined },
): Promise<WeeklyResult> {
  const margin = p.margin ?? SUGGEST_MARGIN;
  const pending = await pendingSuggestion(db);
  if (pending) {
    return {
      proposed: false,
      reason: `suggestion #${pending.proposalId} is still waiting for a decision`,
    };
  }
  const made = await suggestModelChange(db, {
    by: LEADBOT_ACTOR,
    now: p.now,
    accept: (learned) => beatsByMargin(learned.backtest, margin),
  });
  if (!made.ok) return { proposed: false, reason: made.message };
  const { current, suggested } = made.learned.backtest;
  if (!made.proposal) {
    return {
      proposed: false,
      reason: `held-out AUC ${auc(suggested.auc)} does not beat the current ${auc(current.auc)} by ${margin}`,
    };
  }
  return {
    proposed: true,
    reason: `proposal #${made.proposal.id}: held-out AUC ${auc(suggested.auc)} vs ${auc(current.auc)}`,
    proposal: made.proposal,
    learned: made.learned,
  };
}

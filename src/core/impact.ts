import { nextStage, score } from "./engine.js";
import {
  type Activity,
  type LeadFacts,
  type ScoringModel,
  STAGE_RANK,
  STAGES,
  type Stage,
} from "./model.js";

/**
 * Fewest labelled leads (won, lost or not a fit) before outcome figures are shown: below this a
 * single deal swings the rates by several points and would mislead the approver.
 */
export const MIN_OUTCOMES_FOR_BACKTEST = 20;

export type OutcomeLabel = "won" | "lost" | "not_a_fit";

export interface ImpactInput {
  lead: LeadFacts;
  activity: Activity;
  /** The lead's stage now, under the current model. */
  stage: Stage;
  /** The lead's latest recorded outcome, if any. */
  outcome?: OutcomeLabel | undefined;
}

/** How well a model's qualified stages (MQL or SQL) agree with the recorded outcomes. */
export interface OutcomeAgreement {
  /** Won leads that the model qualifies (recall of wins). */
  wonQualified: number;
  /** Lost or not-a-fit leads that the model qualifies (false alarms). */
  notWonQualified: number;
  /** Share of won leads qualified, 0..1. */
  winRecall: number;
  /** Share of qualified labelled leads that were won, 0..1 (0 when none are qualified). */
  precision: number;
}

export interface Impact {
  leads: number;
  before: Record<Stage, number>;
  after: Record<Stage, number>;
  /** Leads that change stage, by pair; pairs with no lead are left out. */
  moves: { from: Stage; to: Stage; count: number }[];
  up: number;
  down: number;
  /** Labelled leads seen; outcome figures need MIN_OUTCOMES_FOR_BACKTEST of them. */
  labelled: { won: number; notWon: number };
  outcomes?: { before: OutcomeAgreement; after: OutcomeAgreement };
}

function zero(): Record<Stage, number> {
  return { lead: 0, mql: 0, sql: 0 };
}

function agreement(won: number, wonQ: number, notWonQ: number): OutcomeAgreement {
  return {
    wonQualified: wonQ,
    notWonQualified: notWonQ,
    winRecall: won === 0 ? 0 : wonQ / won,
    precision: wonQ + notWonQ === 0 ? 0 : wonQ / (wonQ + notWonQ),
  };
}

/**
 * Measures what a proposed model would do to the stored leads, one lead at a time so that any
 * number of leads fits in bounded memory: stage counts before and after, the moves between
 * stages, and, with enough recorded outcomes, how each model's qualified stages match them.
 */
export class ImpactAccumulator {
  private leads = 0;
  private readonly before = zero();
  private readonly after = zero();
  private readonly moves = new Map<string, number>();
  private won = 0;
  private notWon = 0;
  private wonQBefore = 0;
  private notWonQBefore = 0;
  private wonQAfter = 0;
  private notWonQAfter = 0;

  constructor(
    readonly current: ScoringModel,
    readonly proposed: ScoringModel,
    readonly now: number,
  ) {}

  /** Adds one lead; `proposed` is the model that would score it, when models differ by lead. */
  add(input: ImpactInput, proposed: ScoringModel = this.proposed): void {
    const result = score(input.lead, input.activity, proposed, this.now);
    const from = input.stage;
    const to = nextStage(from, result.total, proposed.thresholds);
    this.leads++;
    this.before[from]++;
    this.after[to]++;
    if (from !== to) {
      const key = `${from}>${to}`;
      this.moves.set(key, (this.moves.get(key) ?? 0) + 1);
    }
    if (input.outcome) {
      const qBefore = from !== "lead";
      const qAfter = to !== "lead";
      if (input.outcome === "won") {
        this.won++;
        if (qBefore) this.wonQBefore++;
        if (qAfter) this.wonQAfter++;
      } else {
        this.notWon++;
        if (qBefore) this.notWonQBefore++;
        if (qAfter) this.notWonQAfter++;
      }
    }
  }

  result(): Impact {
    const moves = [...this.moves.entries()]
      .map(([key, count]) => {
        const [from, to] = key.split(">") as [Stage, Stage];
        return { from, to, count };
      })
      .sort(
        (a, b) =>
          STAGES.indexOf(a.from) - STAGES.indexOf(b.from) ||
          STAGES.indexOf(a.to) - STAGES.indexOf(b.to),
      );
    const up = moves
      .filter((m) => STAGE_RANK[m.to] > STAGE_RANK[m.from])
      .reduce((n, m) => n + m.count, 0);
    const down = moves
      .filter((m) => STAGE_RANK[m.to] < STAGE_RANK[m.from])
      .reduce((n, m) => n + m.count, 0);
    const impact: Impact = {
      leads: this.leads,
      before: { ...this.before },
      after: { ...this.after },
      moves,
      up,
      down,
      labelled: { won: this.won, notWon: this.notWon },
    };
    if (this.won + this.notWon >= MIN_OUTCOMES_FOR_BACKTEST) {
      impact.outcomes = {
        before: agreement(this.won, this.wonQBefore, this.notWonQBefore),
        after: agreement(this.won, this.wonQAfter, this.notWonQAfter),
      };
    }
    return impact;
  }
}

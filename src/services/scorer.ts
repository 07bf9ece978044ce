import type { ActivityEvent } from "../core/model.js";
import type { Db, DbOrTx } from "../db/client.js";
import {
  claimLeadMarks,
  claimMarks,
  deleteMarks,
  leadsWithMarks,
  type Mark,
  markedEvents,
  marksUpTo,
  newestMark,
  readByAnyPlan,
  readByIndex,
} from "../db/queries/marks.js";
import type { InFlight } from "../lib/in-flight.js";
import type { Logger } from "../lib/logger.js";
import { activeModels } from "./models.js";
import { type ScoreSummary, scoreLeads } from "./scoring.js";

/**
 * Scores accepted events. Ingest stores events with a mark per lead and insert (`event_marks`);
 * a scorer round claims the oldest marks' leads with SKIP LOCKED, reads the events those marks
 * stand for, scores each lead once for all of them (`scoreLeads`, so activity, history,
 * crossings and alerts stay in one place) and deletes the marks in the same transaction. A crash
 * anywhere rolls the round back and leaves the marks: nothing is lost, nothing scored twice.
 * Every instance runs one; they share the work through the marks' row locks.
 */

/** Leads a round starts from: small, so a round's lead locks are held briefly. */
const LEADS_PER_ROUND = 200;
/** Marks one round takes at most (a lead with a long backlog is finished by the next rounds). */
const MARKS_PER_ROUND = 2_000;
/** Another instance's ingest wakes nobody here: look this often (Postgres; one process on PGlite). */
const DEFAULT_POLL_MS = 100;
const PGLITE_POLL_MS = 1_000;
/**
 * An idle instance looks less often: each look that finds nothing doubles the wait, up to this.
 * Work found, or a batch accepted here (`wake`), brings it back to the poll. Idle instances
 * then cost the server a transaction a second each, not twenty.
 */
const MAX_IDLE_POLL_MS = 1_000;
/** Rounds run side by side per instance on Postgres: scoring is CPU here, writing is the server's. */
const POSTGRES_LANES = 2;
/** How long a waiting caller sleeps between looks when another scorer holds its lead. */
const WAIT_STEP_MS = 25;
/** A round that lost a deadlock or a serialisation check goes again at once, this many times. */
const RETRIES = 3;
/**
 * While this instance is accepting event batches, background rounds yield to them: a round
 * waits for a moment with no batch in flight, but never longer than this after the last round.
 * Accepting is what clients wait on; scoring catches up at full speed once a burst ends.
 */
const MAX_YIELD_MS = 1_000;

export interface ScorerOptions {
  db: Db;
  kind: "pglite" | "postgres";
  clock: () => number;
  logger: Logger;
  /** Told after a commit that queued alerts. */
  onAlerts: (count: number) => void;
  pollMs?: number | undefined;
  /**
   * The event batches this instance is accepting right now: background rounds yield to them
   * (MAX_YIELD_MS) and go on the moment none is in flight. flush and settle never yield.
   */
  ingest?: InFlight | undefined;
  /** MAX_YIELD_MS unless given. */
  maxYieldMs?: number | undefined;
}

export interface Scorer {
  /** Scores every event accepted before the call, with whatever other scorers run meanwhile. */
  flush(): Promise<ScoreSummary>;
  /**
   * Scores the given leads' accepted events now, waiting up to `ms` for another scorer that
   * holds some of them; true when none is left unscored.
   */
  settle(leadIds: readonly number[], ms: number): Promise<boolean>;
  /** The given leads that have events accepted and not yet scored. */
  pending(leadIds: readonly number[]): Promise<Set<number>>;
  /** Runs rounds in the background until stopped: on `wake`, and every poll. */
  start(): void;
  stop(): Promise<void>;
  /** Runs soon: called after a commit that marked leads. */
  wake(): void;
  /** Background looks for marks since start: those that found some and those that found none. */
  looks(): { found: number; empty: number };
}

const emptySummary = (): ScoreSummary => ({ scored: 0, changed: 0, transitions: 0, alerts: 0 });

function add(into: ScoreSummary, s: ScoreSummary): void {
  into.scored += s.scored;
  into.changed += s.changed;
  into.transitions += s.transitions;
  into.alerts += s.alerts;
}

function retryable(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.cause?.code ?? e?.code;
  return code === "40P01" || code === "40001";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createScorer(opts: ScorerOptions): Scorer {
  const { db, clock } = opts;
  const log = opts.logger.child({ component: "scorer" });
  const pollMs = opts.pollMs ?? (opts.kind === "pglite" ? PGLITE_POLL_MS : DEFAULT_POLL_MS);
  const lanes = opts.kind === "pglite" ? 1 : POSTGRES_LANES;
  let timer: NodeJS.Timeout | undefined;
  let draining: Promise<void> | undefined;
  let again = false;
  let started = false;
  let stopped = false;
  let lastRoundAt = 0;
  /** The wait before the next look when the last one found nothing. */
  let idlePollMs = pollMs;
  const looks = { found: 0, empty: 0 };
  /** Waits that end when the scorer stops. */
  const onStop = new Set<() => void>();

  /** One transaction: claim, read, score, unmark. Returns the marks it took. */
  async function scoreClaimed(
    claim: (tx: DbOrTx) => Promise<Mark[]>,
  ): Promise<{ marks: number; summary: ScoreSummary }> {
    for (let attempt = 1; ; attempt++) {
      try {
        let summary = emptySummary();
        const marks = await db.transaction(async (tx) => {
          await readByIndex(tx);
          const claimed = await claim(tx);
          if (claimed.length === 0) return 0;
          // Unmarked first: a lead whose activity is rebuilt from its events then counts these
          // as scored, and still leaves out marks this round did not take.
          await deleteMarks(tx, claimed);
          const byLead = new Map<number, ActivityEvent[]>();
          for (const e of await markedEvents(tx, claimed)) {
            const id = Number(e.lead_id);
            const list = byLead.get(id) ?? [];
            list.push({ type: e.type, at: e.at, properties: e.properties });
            byLead.set(id, list);
          }
          await readByAnyPlan(tx);
          const ids = [...new Set(claimed.map((m) => Number(m.lead_id)))];
          const models = await activeModels(tx);
          summary = await scoreLeads(tx, ids, { models, now: clock(), cause: "events" }, byLead);
          return claimed.length;
        });
        if (summary.alerts > 0) opts.onAlerts(summary.alerts);
        return { marks, summary };
      } catch (err) {
        if (attempt >= RETRIES || !retryable(err)) throw err;
      }
    }
  }

  const round = () =>
    scoreClaimed((tx) => claimMarks(tx, { leads: LEADS_PER_ROUND, limit: MARKS_PER_ROUND }));

  /** Waits while batches are being accepted here, up to MAX_YIELD_MS after the last round that scored. */
  async function yieldToIngest(): Promise<void> {
    const ingest = opts.ingest;
    if (!ingest) return;
    const most = opts.maxYieldMs ?? MAX_YIELD_MS;
    while (!stopped && ingest.busy) {
      const left = most - (Date.now() - lastRoundAt);
      if (left <= 0) return;
      await firstOf(ingest.idle(), left);
    }
  }

  /** Resolves when `signal` does, after `ms`, or when the scorer stops, whichever comes first. */
  function firstOf(signal: Promise<void>, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        onStop.delete(done);
        resolve();
      };
      const timeout = setTimeout(done, ms);
      onStop.add(done);
      void signal.then(done);
    });
  }

  /**
   * One background round, after yielding to ingest; the marks it took (0 when it found none, or
   * when the scorer stopped first).
   */
  async function laneRound(total: ScoreSummary): Promise<number> {
    await yieldToIngest();
    if (stopped) return 0;
    const startedAt = Date.now();
    const r = await round();
    // A round that found nothing does not count: the first batch after a quiet spell goes at once.
    if (r.marks > 0) lastRoundAt = Math.max(lastRoundAt, startedAt);
    add(total, r.summary);
    return r.marks;
  }

  /** Rounds until one finds nothing free to claim. */
  async function drainLane(total: ScoreSummary): Promise<void> {
    while (!stopped && (await laneRound(total)) > 0) {}
  }

  /** One round on one lane; then, if it found work, every lane until none is left. */
  async function drain(): Promise<void> {
    do {
      again = false;
      const total = emptySummary();
      const found = await laneRound(total);
      if (stopped) return;
      looks[found > 0 ? "found" : "empty"] += 1;
      if (found > 0) {
        idlePollMs = pollMs;
        await Promise.all(Array.from({ length: lanes }, () => drainLane(total)));
      } else {
        idlePollMs = Math.min(idlePollMs * 2, Math.max(pollMs, MAX_IDLE_POLL_MS));
      }
      if (total.scored > 0) log.debug(total, "scored accepted events");
    } while (again && !stopped);
  }

  function schedule(ms: number): void {
    if (!started || stopped) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref?.();
  }

  function tick(): void {
    timer = undefined;
    if (draining) {
      again = true;
      return;
    }
    draining = drain()
      .catch((err: unknown) => log.error({ err }, "scoring accepted events failed"))
      .finally(() => {
        draining = undefined;
        if (!timer) schedule(again ? 0 : idlePollMs);
      });
  }

  return {
    async flush() {
      const upTo = await newestMark(db);
      const total = emptySummary();
      if (upTo === 0) return total;
      for (;;) {
        const r = await round();
        add(total, r.summary);
        if (r.marks > 0) continue;
        if (!(await marksUpTo(db, upTo))) return total;
        // Another scorer holds the rest: its commit frees them.
        await sleep(WAIT_STEP_MS);
      }
    },
    async settle(leadIds, ms) {
      const until = Date.now() + ms;
      for (;;) {
        await scoreClaimed((tx) => claimLeadMarks(tx, leadIds));
        if ((await leadsWithMarks(db, leadIds)).size === 0) return true;
        if (Date.now() >= until) return false;
        await sleep(WAIT_STEP_MS);
      }
    },
    pending: (leadIds) => leadsWithMarks(db, leadIds),
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    async stop() {
      stopped = true;
      for (const wake of [...onStop]) wake();
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (draining) await draining;
    },
    wake() {
      if (draining) again = true;
      else schedule(0);
    },
    looks: () => ({ ...looks }),
  };
}

import { Worker } from "node:worker_threads";
import type { LearnExample, Suggestion, SuggestOptions } from "../../core/learn/index.js";
import type { ScoringModel } from "../../core/model.js";

/**
 * Fitting a suggestion is seconds of pure CPU (about 15 s at 100k leads): it runs in a worker
 * thread so Slack acks, the HTTP API and the dispatchers keep answering meanwhile. One fit at a
 * time per process: a second waits for the first, so two suggestions never share the two cores
 * the app has with the database.
 */

export interface FitRequest {
  examples: readonly LearnExample[];
  model: ScoringModel;
  options: SuggestOptions;
}

export type FitReply =
  | { ok: true; suggestion: Suggestion }
  | { ok: false; message: string; stack?: string | undefined };

/** The fit's own failure (a bug, not bad data: bad data is a Suggestion with ok false). */
export class FitFailedError extends Error {
  readonly code = "fit_failed";
  constructor(message: string, stack?: string) {
    super(`fitting the suggestion failed: ${message}`);
    this.name = "FitFailedError";
    if (stack) this.stack = stack;
  }
}

const WORKER_URL = new URL("./worker.mjs", import.meta.url);

let last: Promise<unknown> = Promise.resolve();
let waiting = 0;
let running = false;

/** Fits queued or running in this process now. */
export function fitsInFlight(): { running: boolean; waiting: number } {
  return { running, waiting };
}

/** Runs `suggestModel(examples, model, options)` in a worker thread, one fit at a time. */
export function fitInWorker(
  examples: readonly LearnExample[],
  model: ScoringModel,
  options: SuggestOptions = {},
): Promise<Suggestion> {
  waiting++;
  const run = last.then(async () => {
    waiting--;
    running = true;
    try {
      return await runOnce({ examples, model, options });
    } finally {
      running = false;
    }
  });
  last = run.catch(() => undefined);
  return run;
}

function runOnce(request: FitRequest): Promise<Suggestion> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const worker = new Worker(WORKER_URL, { workerData: request });
    worker.once("message", (reply: FitReply) => {
      settled = true;
      if (reply.ok) resolve(reply.suggestion);
      else reject(new FitFailedError(reply.message, reply.stack));
      void worker.terminate();
    });
    worker.once("error", (err) => {
      if (settled) return;
      settled = true;
      reject(new FitFailedError(err.message, err.stack));
    });
    worker.once("exit", (code) => {
      if (settled) return;
      settled = true;
      reject(new FitFailedError(`the fitting thread stopped (exit code ${code}) without a result`));
    });
  });
}

/**
 * `tsx bench/fit.ts [--leads 100000] [--noise 10] [--seed 42] [--worker]`: times `suggestModel` on
 * synthetic leads that all carry an outcome, and prints the seconds with the phase figures beside
 * them. With `--worker`, also the same fit as the app runs it, in a worker thread (its extra cost
 * is copying the data there). Pure CPU: no database.
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { suggestModel } from "../src/core/learn/suggest.js";
import { parseModelText } from "../src/core/model-file.js";
import { fitInWorker } from "../src/services/fit/index.js";
import { syntheticLeads } from "../test/core/synthetic-leads.js";

const { values: args } = parseArgs({
  options: {
    leads: { type: "string", default: "100000" },
    noise: { type: "string", default: "10" },
    seed: { type: "string", default: "42" },
    worker: { type: "boolean", default: false },
  },
});

/** The report goes to stdout as plain lines: it is the program's output, not a log. */
function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

const leads = Number(args.leads);
const now = Date.UTC(2026, 10, 1);
const model = parseModelText(
  readFileSync(new URL("../src/config/default-model.yaml", import.meta.url), "utf8"),
);
let start = performance.now();
const data = syntheticLeads({
  seed: Number(args.seed),
  leads,
  now,
  noiseColumns: Number(args.noise),
});
const generated = (performance.now() - start) / 1000;
start = performance.now();
const suggestion = suggestModel(data, model, { seed: Number(args.seed) });
const seconds = (performance.now() - start) / 1000;

print(`fit a suggestion: ${leads} leads with outcomes, ${args.noise} noise columns`);
print(`  generate data   ${generated.toFixed(2)} s`);
print(`  suggestModel    ${seconds.toFixed(2)} s`);
if (suggestion.ok) {
  const { current, suggested } = suggestion.backtest;
  print(`  candidates      ${suggestion.fit.candidates}, rules kept ${suggestion.evidence.length}`);
  print(
    `  held-out AUC    current ${current.auc?.toFixed(3)}, suggested ${suggested.auc?.toFixed(3)}`,
  );
} else {
  print(`  no suggestion: ${suggestion.code}`);
}

if (args.worker) {
  // The longest the event loop waited meanwhile: copying the data to the thread and back.
  const stall = monitorEventLoopDelay({ resolution: 10 });
  stall.enable();
  start = performance.now();
  const inWorker = await fitInWorker(data, model, { seed: Number(args.seed) });
  const workerSeconds = (performance.now() - start) / 1000;
  stall.disable();
  const same = JSON.stringify(inWorker) === JSON.stringify(suggestion);
  print(
    `  in a worker     ${workerSeconds.toFixed(2)} s (${(workerSeconds / seconds).toFixed(2)}x in-thread), ${same ? "same result" : "DIFFERENT RESULT"}`,
  );
  print(`  loop stall      ${(stall.max / 1e6).toFixed(0)} ms at most while the worker fitted`);
}

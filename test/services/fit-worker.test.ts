import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { suggestModel } from "../../src/core/learn/index.js";
import type { ScoringModel } from "../../src/core/model.js";
import { parseModelText } from "../../src/core/model-file.js";
import { FitFailedError, fitInWorker, fitsInFlight } from "../../src/services/fit/index.js";
import { syntheticLeads } from "../core/synthetic-leads.js";

const NOW = Date.UTC(2026, 10, 1);
const model = parseModelText(
  readFileSync(new URL("../../src/config/default-model.yaml", import.meta.url), "utf8"),
);

describe("fitting a suggestion in a worker thread", () => {
  it("when the same outcomes are fitted in the worker and in this thread, then the suggestions are equal", async () => {
    const data = syntheticLeads({ seed: 11, leads: 1_500, now: NOW, noiseColumns: 4 });
    const here = suggestModel(data, model, { seed: 1 });
    const there = await fitInWorker(data, model, { seed: 1 });
    expect(here.ok).toBe(true);
    expect(there).toEqual(here);
  }, 120_000);

  it("when the data is below the need, then the worker answers the same refusal", async () => {
    const data = syntheticLeads({ seed: 2, leads: 40, now: NOW });
    const there = await fitInWorker(data, model, { seed: 1 });
    expect(there).toEqual(suggestModel(data, model, { seed: 1 }));
    expect(there).toMatchObject({ ok: false, code: "not_enough_data" });
  }, 60_000);

  it("when two fits are asked for at once, then the second waits for the first and both finish", async () => {
    const a = syntheticLeads({ seed: 4, leads: 800, now: NOW });
    const b = syntheticLeads({ seed: 5, leads: 800, now: NOW });
    const first = fitInWorker(a, model, { seed: 1 });
    const second = fitInWorker(b, model, { seed: 1 });
    // Both were queued in this turn of the loop: neither has started a thread yet.
    expect(fitsInFlight()).toEqual({ running: false, waiting: 2 });
    const order: string[] = [];
    const seen = new Set<string>();
    const sample = setInterval(() => seen.add(JSON.stringify(fitsInFlight())), 5);
    await Promise.all([
      first.then(() => order.push("first")),
      second.then(() => order.push("second")),
    ]);
    clearInterval(sample);
    expect(order).toEqual(["first", "second"]);
    // The loop stayed free to look while they ran: one running with one waiting, then one alone.
    expect(seen).toContain(JSON.stringify({ running: true, waiting: 1 }));
    expect(seen).toContain(JSON.stringify({ running: true, waiting: 0 }));
    expect(await first).toEqual(suggestModel(a, model, { seed: 1 }));
    expect(await second).toEqual(suggestModel(b, model, { seed: 1 }));
    expect(fitsInFlight()).toEqual({ running: false, waiting: 0 });
  }, 120_000);

  it("when the fit itself throws, then the caller gets a FitFailedError and the next fit still runs", async () => {
    const data = syntheticLeads({ seed: 6, leads: 300, now: NOW });
    // A model without its fit section is nothing suggestModel can start from.
    const broken = { ...model, fit: undefined } as unknown as ScoringModel;
    const failed = fitInWorker(data, broken, { seed: 1 });
    await expect(failed).rejects.toBeInstanceOf(FitFailedError);
    await expect(failed).rejects.toThrow(/^fitting the suggestion failed: /);
    const next = await fitInWorker(data, model, { seed: 1 });
    expect(next).toEqual(suggestModel(data, model, { seed: 1 }));
  }, 60_000);
});

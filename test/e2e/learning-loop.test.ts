import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalTerminal, startLocalTerminal } from "../support/terminal.js";

/**
 * The learning loop as a manager meets it in local mode, in a terminal, on the demo data: read
 * the stats and their chart, ask for a suggestion, have it approved, and see the leads rescored
 * by the learned model.
 */

const API_TOKEN = "learning-loop-test-token-0123456789";
/** First start runs initdb and loads 2,000 demo leads. */
const START_TIMEOUT_MS = 120_000;
const STEP_TIMEOUT_MS = 60_000;
/** Leads whose stored scores are compared before and after the learned model is approved. */
const SAMPLE = 25;

interface LeadView {
  email: string;
  score: number;
  modelVersion: number | null;
}

describe("the learning loop in local mode", () => {
  let dir: string;
  let term: LocalTerminal;
  let base = "";
  const see = (pattern: RegExp, timeoutMs?: number) => term.see(pattern, timeoutMs);
  const type = (line: string) => term.type(line);

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  }

  const lead = (email: string) => api<LeadView>(`/api/v1/leads/${encodeURIComponent(email)}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "leadbot-loop-"));
    term = startLocalTerminal({
      dataDir: dir,
      apiToken: API_TOKEN,
      stepTimeoutMs: STEP_TIMEOUT_MS,
    });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await term?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "when a manager reads the stats, asks for a suggestion that beats the current model and it is approved, then the learned model is active and the stored scores change",
    async () => {
      const port = Number((await see(/Leadbot is up on port (\d+)/, START_TIMEOUT_MS))[1]);
      base = `http://127.0.0.1:${port}`;
      await see(/riley> /);

      type("as morgan");
      await see(/You are now morgan/);
      await see(/morgan> /);

      // The stats: the AUC in the text, and the chart saved under the data directory.
      type("/lead stats all");
      const auc = Number((await see(/ROC AUC (0\.\d+)\*/))[1]);
      expect(auc).toBeGreaterThan(0.5);
      expect(auc).toBeLessThan(1);
      const chartPath = (
        await see(/\[file in \w+\] Conversion by score band, all: (\S+\.png)/)
      )[1] as string;
      expect(resolve(chartPath).startsWith(join(dir, "files"))).toBe(true);
      const png = await readFile(chartPath);
      expect(png.length).toBeGreaterThan(5_000);
      const image = PNG.sync.read(png);
      expect(image.width).toBeGreaterThan(300);
      expect(image.height).toBeGreaterThan(200);
      await see(/morgan> /);

      const { leads: top } = await api<{ leads: { email: string }[] }>(
        `/api/v1/leads?top=${SAMPLE}`,
      );
      expect(top).toHaveLength(SAMPLE);
      const before = await Promise.all(top.map((l) => lead(l.email)));
      expect(before.every((l) => l.modelVersion === 1)).toBe(true);

      // The suggestion: learned from the demo's outcomes, backtested on held-out ones.
      type("/lead suggest");
      const backtest = await see(/AUC (0\.\d+) suggested vs (0\.\d+) current/, 180_000);
      const suggested = Number(backtest[1]);
      const current = Number(backtest[2]);
      expect(suggested).toBeGreaterThan(current);
      await see(/Waiting for a manager\. Sent for approval to @alex/);

      // A manager never approves their own proposal: alex, an admin, approves morgan's.
      type("as alex");
      await see(/You are now alex/);
      type("home");
      const review = (await see(/\[(\d+)\] Review/))[1];
      type(String(review));
      await see(/┌ Review change #\d+/);
      await see(/Model name: Leadbot default → Leadbot default \(learned\)/);
      type("submit");
      await see(/Scoring model v2 is active/);

      // The stored scores are the learned model's now.
      let after: LeadView[] = [];
      const until = Date.now() + STEP_TIMEOUT_MS;
      for (;;) {
        after = await Promise.all(before.map((l) => lead(l.email)));
        if (after.every((l) => l.modelVersion === 2) || Date.now() > until) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(after.map((l) => l.modelVersion)).toEqual(before.map(() => 2));
      const changed = after.filter((l, i) => l.score !== before[i]?.score);
      expect(changed.length).toBeGreaterThan(SAMPLE / 2);

      type(`/lead why ${before[0]?.email ?? ""}`);
      await see(/with model v2/);

      type("quit");
      expect(await term.exited()).toBe(0);
    },
    START_TIMEOUT_MS + 300_000,
  );
});

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { execRows, openDatabase } from "../../src/db/client.js";
import { openRescoreRuns } from "../../src/db/queries/rescores.js";
import { silentLogger } from "../../src/lib/logger.js";
import { eventually } from "../support/slack.js";

/**
 * A process killed with SIGKILL half-way through the rescore after a model change leaves leads on
 * the old version; the next start finds the unfinished run and finishes it from where it stopped.
 */

const LEADS = 3_000;
const FIXTURE = join(import.meta.dirname, "rescore-child.ts");

describe("rescore across a kill -9", () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let app: Leadbot | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "leadbot-rescore-kill-"));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await app?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("when the process dies mid-rescore, then the next start finishes it and every lead has the new version", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LEADBOT_DATA_DIR: dir, LEADS: String(LEADS) };
    delete env.DATABASE_URL;
    const proc = spawn(process.execPath, ["--import", "tsx", FIXTURE], { env, cwd: process.cwd() });
    child = proc;
    let out = "";
    proc.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
    });
    proc.stderr?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
    });
    const exited = new Promise<string>((resolve) => {
      proc.once("exit", (code, signal) => resolve(signal ?? String(code)));
    });
    // Kill once a few chunks are in, well before the walk of 3,000 leads could end.
    await eventually(() => {
      if (proc.exitCode !== null) throw new Error(`fixture exited early:\n${out.slice(-3000)}`);
      const done = [...out.matchAll(/progress (\d+)/g)].map((m) => Number(m[1]));
      return (done.at(-1) ?? 0) >= 300 ? true : undefined;
    }, 60_000);
    proc.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(out).not.toContain("done");
    const version = Number(/version (\d+)/.exec(out)?.[1]);
    expect(version).toBeGreaterThan(1);

    const killed = await openDatabase({ dataDir: dir, logger: silentLogger });
    try {
      const runs = await openRescoreRuns(killed.db);
      expect(runs).toHaveLength(1);
      expect(runs[0]?.cause).toBe("model");
      expect(runs[0]?.afterLeadId).toBeGreaterThan(0);
      const [stale] = await execRows<{ n: number }>(
        killed.db,
        sql`select count(*)::int as n from lead_scores where model_version <> ${version}`,
      );
      expect(stale?.n).toBeGreaterThan(0);
    } finally {
      await killed.close();
    }

    app = await startLeadbot({
      env: loadEnv({
        PORT: "0",
        LEADBOT_DATA_DIR: dir,
        LEADBOT_DEMO: "off",
        LEADBOT_DECAY_CRON: "off",
      }),
      logger: silentLogger,
    });
    const db = app.database.db;
    await eventually(
      async () => ((await openRescoreRuns(db)).length === 0 ? true : undefined),
      60_000,
    );
    const [counts] = await execRows<{ total: number; current: number }>(
      db,
      sql`select count(*)::int as total,
            count(*) filter (where model_version = ${version})::int as current
          from lead_scores`,
    );
    expect(counts).toEqual({ total: LEADS, current: LEADS });
    const [finished] = await execRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from rescore_runs where finished_at is not null and cause = 'model'`,
    );
    expect(finished?.n).toBe(1);
  }, 120_000);
});

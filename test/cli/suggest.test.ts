import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createScratchDatabase, testDatabases } from "../support/db.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "src/cli/bin.mjs");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the installed `leadbot` entry point as a child process, with only the given environment. */
function leadbot(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

for (const config of testDatabases()) {
  describe(`leadbot model suggest on ${config.name}`, () => {
    let dir: string;
    let env: Record<string, string>;
    let drop: (() => Promise<void>) | undefined;
    const run = (...args: string[]) => leadbot(args, env);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "leadbot-suggest-"));
      env = { LEADBOT_DATA_DIR: join(dir, "data"), LOG_LEVEL: "error" };
      if (config.name === "postgres") {
        const scratch = await createScratchDatabase(config.url, "leadbot_suggest");
        env.DATABASE_URL = scratch.url;
        drop = scratch.drop;
      }
    });

    afterAll(async () => {
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it("when there are no outcomes, then it prints the data need and exits with 2", async () => {
      const r = await run("model", "suggest");
      expect(r.code).toBe(2);
      expect(r.stdout.trim()).toBe(
        "A suggestion needs 30 won and 30 lost or not a fit; there are 0 and 0, so 30 more won and 30 more lost or not a fit are needed.",
      );
    }, 60_000);

    it("when outcomes suffice, then a dry run prints the backtest side by side and proposes nothing, and a real run proposes", async () => {
      const loaded = await run("demo", "--leads", "2500", "--seed", "3");
      expect(loaded.code).toBe(0);
      const dry = await run("model", "suggest", "--dry-run");
      expect(dry.stderr).toBe("");
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain("dry run: nothing proposed");
      expect(dry.stdout).toMatch(/ROC AUC\s+0\.\d{3}\s+0\.\d{3}/);
      expect(dry.stdout).toMatch(/precision at MQL\s+\d+%\s+\d+%/);
      const real = await run("model", "suggest", "--by", "U0MANAGER1");
      expect(real.code).toBe(0);
      expect(real.stdout).toMatch(/^proposal #1 by U0MANAGER1: waiting for a manager's approval/);
    }, 300_000);
  });
}

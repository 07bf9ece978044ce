import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withProgress } from "../../src/cli/import-progress.js";
import { DEFAULT_MODEL_FILE } from "../../src/services/models.js";
import { createScratchDatabase, testDatabases } from "../support/db.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "src/cli/bin.mjs");
const fixture = (name: string) => join(ROOT, "test/fixtures/csv", name);

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
  describe(`the leadbot CLI on ${config.name}`, () => {
    let dir: string;
    let env: Record<string, string>;
    let drop: (() => Promise<void>) | undefined;
    const run = (...args: string[]) => leadbot(args, env);

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "leadbot-cli-"));
      env = { LEADBOT_DATA_DIR: join(dir, "data"), LOG_LEVEL: "error" };
      if (config.name === "postgres") {
        const scratch = await createScratchDatabase(config.url, "leadbot_cli");
        env.DATABASE_URL = scratch.url;
        drop = scratch.drop;
      }
    });

    afterAll(async () => {
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it("when a CSV with bad rows is imported, then good rows are stored, bad ones go to the report and the exit code is 1", async () => {
      const report = join(dir, "lead-errors.csv");
      const r = await run(
        "import",
        fixture("leads-malformed.csv"),
        "--kind",
        "leads",
        "--errors",
        report,
      );
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("9 rows: 3 imported, 6 rejected");
      expect(r.stdout).toContain(`rejected rows are listed in ${report}`);
      const rows = parse(readFileSync(report, "utf8"), { columns: true }) as Record<
        string,
        string
      >[];
      expect(rows.map((x) => [x.line, x.field])).toEqual([
        ["3", "(row)"],
        ["5", "(row)"],
        ["6", "(row)"],
        ["7", "email"],
        ["8", "employees"],
        ["11", "(row)"],
      ]);
    });

    it("when events are imported, then the lead shows them in its score breakdown", async () => {
      const events = await run(
        "import",
        fixture("events.csv"),
        "-k",
        "events",
        "-e",
        join(dir, "event-errors.csv"),
      );
      expect(events.stdout).toContain("5 rows: 3 imported, 2 rejected");

      const shown = await run("lead", "A@acme.example");
      expect(shown.code).toBe(0);
      const lead = JSON.parse(shown.stdout) as {
        email: string;
        score: number;
        breakdown: { ruleId: string }[];
      };
      expect(lead.email).toBe("a@acme.example");
      expect(lead.score).toBeGreaterThan(0);
      expect(lead.breakdown.map((b) => b.ruleId)).toEqual(
        expect.arrayContaining(["demo_request", "pricing_page"]),
      );
    });

    it("when outcomes are imported, then good rows are recorded, bad lines are reported and stats count them", async () => {
      const file = join(dir, "outcomes.csv");
      writeFileSync(
        file,
        [
          "Email,Outcome,Reason,Note,Close Date",
          "a@acme.example,won,,signed,2026-11-01T10:00:00Z",
          "a@acme.example,maybe,,,",
          "nobody@nowhere.example,lost,no_budget,,",
          "a@acme.example,won,,signed,2026-11-01T10:00:00Z",
        ].join("\n"),
      );
      const report = join(dir, "outcome-errors.csv");
      const r = await run("import", file, "--kind", "outcomes", "--errors", report);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("4 rows: 2 imported, 2 rejected");
      const rows = parse(readFileSync(report, "utf8"), { columns: true }) as Record<
        string,
        string
      >[];
      expect(rows.map((x) => [x.line, x.field])).toEqual([
        ["3", "Outcome"],
        ["4", "Email"],
      ]);
      const stats = await run("stats", "--period", "all", "--json");
      expect(stats.code).toBe(0);
      const metrics = JSON.parse(stats.stdout) as { outcomes: { won: number } };
      // The repeated row is the same outcome at the same time: recorded once.
      expect(metrics.outcomes.won).toBe(1);
      const text = await run("stats");
      expect(text.stdout).toContain("outcomes: 1 won, 0 lost, 0 not a fit");
    });

    it("when a lead does not exist, then it says how to name one and exits 2", async () => {
      const r = await run("lead", "nobody@nowhere.example");
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^leadbot: No lead matches "nobody@nowhere.example"/);
    });

    it("when the top leads are asked for, then the most engaged comes first", async () => {
      const r = await run("top", "2");
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split("\n");
      expect(lines).toHaveLength(2);
      expect(lines[0]).toContain("a@acme.example");
      const scores = lines.map((l) => Number(l.trim().split(/\s+/)[0]));
      expect(scores[0]).toBeGreaterThanOrEqual(scores[1] ?? 0);
    });

    it("when top is given filters, then only the leads that pass them are listed", async () => {
      const unowned = await run(
        "top",
        "50",
        "--owner",
        "nobody",
        "--q",
        "acme",
        "--min-score",
        "1",
      );
      expect(unowned.code).toBe(0);
      const lines = unowned.stdout.trim().split("\n");
      expect(lines[0]).toContain("a@acme.example");
      expect(lines.every((l) => l.includes("acme"))).toBe(true);
      const bad = await run("top", "5", "--grade", "Z");
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("grade");
    });

    it("when routing rules are applied from a file, then show prints them and a bad file changes nothing", async () => {
      const file = join(dir, "rules.yaml");
      writeFileSync(
        file,
        "rules:\n  - name: US\n    when: [{ field: country, op: equals, value: US }]\n    target: { kind: round_robin, users: [U0REP0001, U0REP0002] }\n",
      );
      const applied = await run("routing", "apply", file);
      expect(applied.code).toBe(0);
      expect(applied.stdout).toContain("1 routing rule(s) applied");
      writeFileSync(file, "rules:\n  - name: broken\n    target: { kind: user }\n");
      const refused = await run("routing", "apply", file);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("rules.0.target");
      const shown = await run("routing", "show");
      expect(shown.stdout).toContain("name: US");
      expect(shown.stdout).toContain("U0REP0002");
    }, 180_000); // three runs, each opening the embedded database: over a minute on a busy machine

    it("when tokens are created, listed, given other scopes and revoked, then each step shows in the list", async () => {
      const created = await run("token", "create", "crm-sync", "--scope", "ingest,read");
      expect(created.code).toBe(0);
      const m = /^token (\d+) \(crm-sync, scopes ingest,read\): (\S+)$/m.exec(created.stdout);
      expect(m).not.toBeNull();
      const id = m?.[1] as string;
      expect((m?.[2] ?? "").length).toBeGreaterThanOrEqual(32);

      const listed = await run("token", "list");
      expect(listed.stdout).toMatch(
        new RegExp(`^${id}\\tcrm-sync\\tscopes ingest,read\\tcreated \\S+\\tlast used never$`, "m"),
      );
      const bad = await run("token", "create", "x", "--scope", "ingest,root");
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("ingest, read, admin");

      expect((await run("token", "scopes", id, "--scope", "read")).stdout).toContain(
        `token ${id} scopes ingest,read -> read`,
      );
      expect((await run("token", "revoke", id)).stdout).toContain(`token ${id} revoked`);
      const after = await run("token", "list");
      expect(after.stdout).toMatch(
        new RegExp(
          `^${id}\\tcrm-sync\\tscopes read\\tcreated \\S+\\tlast used never\\trevoked \\S+$`,
          "m",
        ),
      );
      const gone = await run("token", "scopes", id, "--scope", "read");
      expect(gone.code).not.toBe(0);
      expect(gone.stderr).toContain(`No active API token has id ${id}.`);
    }, 180_000);

    it("when a lead is erased from the CLI, then a bare key is refused, the email works, a re-import drops the person and unsuppress lets them back", async () => {
      const csv = join(dir, "erase-me.csv");
      writeFileSync(csv, "email,first_name,company\nerase.me@cli.example,Erin,Clico\n");
      expect((await run("import", csv, "--kind", "leads")).stdout).toContain("1 imported");

      const bare = await run("lead", "erase", "1");
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain("an email, id:<internal id> or ext:<externalId>");

      const erased = await run("lead", "erase", "erase.me@cli.example");
      expect(erased.code).toBe(0);
      expect(erased.stdout).toMatch(/^lead \d+ erased; its email and externalId are suppressed$/m);

      const again = await run("import", csv, "--kind", "leads");
      expect(again.stdout).toContain("1 of them name erased people and were dropped");
      expect((await run("lead", "erase.me@cli.example")).code).toBe(2);

      const lifted = await run("lead", "unsuppress", "erase.me@cli.example");
      expect(lifted.stdout).toContain("erase.me@cli.example is no longer suppressed");
    }, 180_000);

    it("when the demo data is loaded, then it reports what it loaded and the leads are scored", async () => {
      const r = await run("demo", "--leads", "60", "--seed", "9");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^loaded 60 leads, \d+ events, \d+ outcomes$/m);
      const top = await run("top", "100");
      expect(top.stdout.trim().split("\n").length).toBeGreaterThanOrEqual(60);
    });

    it("when a CSV has no column to identify leads, then it says which column to add and exits 2", async () => {
      const file = join(dir, "no-email.csv");
      writeFileSync(file, "first_name,company\nJane,Acme\n");
      const r = await run("import", file, "--kind", "leads", "--errors", join(dir, "unused.csv"));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^leadbot: the header row needs an email or external_id column/);
    });
  });
}

describe("the leadbot CLI without a database", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "leadbot-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("when a model file is valid, then validate says so", async () => {
    const r = await leadbot(["model", "validate", DEFAULT_MODEL_FILE], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(\d+ fit rules, \d+ engagement rules\)/);
  });

  it("when a model file is wrong, then validate names the line and the field", async () => {
    const text = readFileSync(DEFAULT_MODEL_FILE, "utf8").replace(/^( {2}mql:) 50$/m, "$1 fifty");
    const line = text.split("\n").findIndex((l) => l.includes("mql: fifty")) + 1;
    expect(line).toBeGreaterThan(0);
    const file = join(dir, "bad-model.yaml");
    writeFileSync(file, text);
    const r = await leadbot(["model", "validate", file], {});
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`${file}:${line}: thresholds.mql:`);
  });

  it("when an environment variable is invalid, then it exits 2 with one line naming it", async () => {
    const bad = await leadbot(["top"], { DATABASE_URL: "mysql://db.example/leads" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("leadbot: DATABASE_URL expects a postgres:// URL or memory://\n");
    const admins = await leadbot(["token", "list"], {
      DATABASE_URL: "memory://",
      LEADBOT_ADMINS: "U012AB3CD,bob",
    });
    expect(admins.code).toBe(2);
    expect(admins.stderr.trim().split("\n")).toHaveLength(1);
    expect(admins.stderr).toMatch(/^leadbot: LEADBOT_ADMINS expects Slack user ids .*"bob"/);
  });
});

describe("the import progress bar", () => {
  const capture = (isTTY: boolean) => {
    const stream = Object.assign(new PassThrough(), { isTTY, columns: 120 });
    let text = "";
    stream.on("data", (d: Buffer) => {
      text += d.toString();
    });
    return { stream, text: () => text };
  };

  it("when stderr is a terminal, then it draws the bytes, the rows and the percentage", () => {
    const out = capture(true);
    const p = withProgress(4 * 1024 * 1024, out.stream);
    p.onProgress({ bytes: 2 * 1024 * 1024, rows: 12_345 });
    p.stop();
    p.stop();
    expect(out.text()).toContain("Importing");
    expect(out.text()).toContain("50%");
    expect(out.text()).toContain("2.0/4.0 MB");
    expect(out.text()).toContain("12,345 rows");
  });

  it("when stderr is not a terminal, then it stays quiet", () => {
    const out = capture(false);
    const p = withProgress(1000, out.stream);
    p.onProgress({ bytes: 500, rows: 5 });
    p.stop();
    expect(out.text()).toBe("");
  });
});

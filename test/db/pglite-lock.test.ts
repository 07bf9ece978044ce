import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { DatabaseLockedError, execRows, openDatabase } from "../../src/db/client.js";

const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "leadbot-lock-"));
  dirs.push(d);
  return d;
}

/** Starts a process holding the database and resolves once it has written its row. */
function holder(dir: string, email: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/hold-db.ts", dir, email],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr?.on("data", (d) => {
      err += String(d);
    });
    child.stdout?.on("data", (d) => {
      if (String(d).includes("ready")) resolve(child);
    });
    child.once("exit", (code) => reject(new Error(`holder exited with ${code}: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

async function emails(dir: string): Promise<string[]> {
  const database = await openDatabase({ dataDir: dir });
  try {
    const rows = await execRows<{ email: string }>(
      database.db,
      sql`select email from leads order by email`,
    );
    return rows.map((r) => r.email);
  } finally {
    await database.close();
  }
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("embedded database directory", () => {
  it("when another process holds the directory, then opening fails fast and names the holder", async () => {
    const dir = tempDir();
    const child = await holder(dir, "a@acme.com");
    const err = await openDatabase({ dataDir: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseLockedError);
    expect((err as Error).message).toContain(`process ${child.pid}`);
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    expect(existsSync(join(dir, "leadbot.lock"))).toBe(false);
  });

  it("when the process gets SIGTERM, then it closes cleanly and the data opens again", async () => {
    const dir = tempDir();
    const child = await holder(dir, "b@acme.com");
    child.kill("SIGTERM");
    await exited(child);
    expect(await emails(dir)).toEqual(["b@acme.com"]);
  });

  it("when the process is killed with SIGKILL, then the directory opens again with its data intact", async () => {
    const dir = tempDir();
    const first = await holder(dir, "c@acme.com");
    first.kill("SIGKILL");
    await exited(first);
    // The stale lock names a dead process: it is taken over.
    expect(existsSync(join(dir, "leadbot.lock"))).toBe(true);
    const second = await holder(dir, "d@acme.com");
    second.kill("SIGKILL");
    await exited(second);
    expect(await emails(dir)).toEqual(["c@acme.com", "d@acme.com"]);
  });
});

import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { acquireDirLock, DatabaseLockedError } from "../../src/db/dir-lock.js";
import { eventually } from "../support/slack.js";

const dirs: string[] = [];
const pids: number[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "leadbot-dirlock-"));
  dirs.push(d);
  return d;
}

function procStateOf(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

afterAll(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(process.platform !== "linux")("data directory lock on Linux", () => {
  it("when the holder was killed but its parent has not reaped it (a zombie), then the lock is taken over", async () => {
    const dir = tempDir();
    // `sh` runs the holder in the background and becomes `sleep`, which never reaps it.
    const parent = spawn(
      "sh",
      [
        "-c",
        `"${process.execPath}" --import tsx test/fixtures/hold-dir-lock.ts "${dir}" & exec sleep 60`,
      ],
      { stdio: "ignore" },
    );
    if (parent.pid) pids.push(parent.pid);
    const holderPid = await eventually(() => {
      try {
        return (JSON.parse(readFileSync(join(dir, "leadbot.lock"), "utf8")) as { pid: number }).pid;
      } catch {
        return undefined;
      }
    });
    expect(() => acquireDirLock(dir)).toThrow(DatabaseLockedError);
    process.kill(holderPid, "SIGKILL");
    await eventually(() => (procStateOf(holderPid) === "Z" ? true : undefined));
    const release = acquireDirLock(dir);
    expect(JSON.parse(readFileSync(join(dir, "leadbot.lock"), "utf8")).pid).toBe(process.pid);
    release();
    parent.kill("SIGKILL");
    await once(parent, "exit");
  });

  it("when the recorded pid now belongs to another live process, then the lock is taken over", async () => {
    const dir = tempDir();
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    if (!other.pid) throw new Error("sleep did not start");
    pids.push(other.pid);
    // The lock names the live pid with a start time it never had: the holder died, the pid moved on.
    writeFileSync(
      join(dir, "leadbot.lock"),
      JSON.stringify({ pid: other.pid, procStart: "1", startedAt: "2026-01-01T00:00:00Z" }),
    );
    const release = acquireDirLock(dir);
    expect(JSON.parse(readFileSync(join(dir, "leadbot.lock"), "utf8")).pid).toBe(process.pid);
    release();
    other.kill("SIGKILL");
  });

  it("when the recorded holder is live with the same start time, then the lock is refused and names it", async () => {
    const dir = tempDir();
    const other = spawn("sleep", ["60"], { stdio: "ignore" });
    if (!other.pid) throw new Error("sleep did not start");
    pids.push(other.pid);
    const stat = readFileSync(`/proc/${other.pid}/stat`, "utf8");
    const procStart = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    writeFileSync(join(dir, "leadbot.lock"), JSON.stringify({ pid: other.pid, procStart }));
    expect(() => acquireDirLock(dir)).toThrow(`process ${other.pid}`);
    other.kill("SIGKILL");
  });
});

import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";

export class DatabaseLockedError extends Error {
  readonly code = "database_locked";
}

/** What the lock file records of its holder: enough to tell it from a later process with its pid. */
interface LockHolder {
  pid: number;
  /** Kernel start time of the holder (clock ticks since boot, /proc/<pid>/stat field 22). */
  procStart?: string;
  startedAt?: string;
}

/** A process as the kernel sees it, read from /proc; undefined when it does not exist. */
interface ProcState {
  state: string;
  start: string;
}

/** Reads /proc/<pid>/stat; null where there is no /proc (not Linux), undefined when gone. */
function procState(pid: number): ProcState | undefined | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") {
      try {
        readFileSync("/proc/self/stat", "utf8");
        return undefined;
      } catch {
        return null;
      }
    }
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ")".
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const start = rest[19];
  if (state === undefined || start === undefined) return null;
  return { state, start };
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether the recorded holder still runs: a zombie (killed, not yet reaped) or a live process
 * that reuses the pid (different kernel start time) does not hold the directory.
 */
export function holderAlive(holder: LockHolder): boolean {
  const proc = procState(holder.pid);
  if (proc === undefined) return false;
  if (proc === null) return signalable(holder.pid);
  if (proc.state === "Z" || proc.state === "X" || proc.state === "x") return false;
  if (holder.procStart !== undefined && holder.procStart !== proc.start) return false;
  return true;
}

/**
 * PGlite takes no lock on its directory and two processes on one directory corrupt it, so the
 * app holds a lock file naming its pid and kernel start time; a lock whose holder is gone, a
 * zombie, or a different process under a reused pid is taken over.
 */
export function acquireDirLock(dir: string): () => void {
  const file = join(dir, "leadbot.lock");
  const me = procState(process.pid);
  const body = JSON.stringify({
    pid: process.pid,
    ...(me ? { procStart: me.start } : {}),
    startedAt: new Date().toISOString(),
  } satisfies LockHolder);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, body);
      closeSync(fd);
      return () => {
        try {
          const holder = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
          if (holder.pid === process.pid) rmSync(file, { force: true });
        } catch {
          // The file is already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      let holder: LockHolder | undefined;
      try {
        holder = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
      } catch {
        holder = undefined;
      }
      if (holder && holder.pid !== process.pid && holderAlive(holder)) {
        throw new DatabaseLockedError(
          `The data directory ${resolve(dir)} is in use by process ${holder.pid} (since ${holder.startedAt ?? "unknown"}). Stop that process or set LEADBOT_DATA_DIR to another directory.`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DatabaseLockedError(`Could not lock the data directory ${resolve(dir)}.`);
}

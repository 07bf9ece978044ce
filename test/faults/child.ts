import { type ChildProcess, spawn } from "node:child_process";
import { eventually } from "../support/slack.js";

/** The app as production runs it: `src/main.ts` in a process of its own, JSON logs on stdout. */
export interface AppChild {
  proc: ChildProcess;
  base: string;
  /** Everything the process wrote so far. */
  log(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** A first start on an embedded directory runs initdb; give it time on a busy machine. */
export const START_TIMEOUT_MS = 120_000;

export async function startAppChild(env: Record<string, string>): Promise<AppChild> {
  const full: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "0",
    LEADBOT_DEMO: "off",
    LEADBOT_DECAY_CRON: "off",
    LOG_LEVEL: "info",
    ...env,
  };
  for (const k of ["SLACK_APP_TOKEN", ...(env.DATABASE_URL ? [] : ["DATABASE_URL"])]) {
    delete full[k];
  }
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--no-console"], {
    env: full,
    cwd: process.cwd(),
  });
  let out = "";
  proc.stdout?.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  proc.stderr?.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
  });
  const port = await eventually(() => {
    if (proc.exitCode !== null) {
      throw new Error(`leadbot exited (${proc.exitCode}):\n${out.slice(-3000)}`);
    }
    return /"port":(\d+)[^\n]*"msg":"HTTP server listening"/.exec(out)?.[1];
  }, START_TIMEOUT_MS);
  return { proc, base: `http://127.0.0.1:${port}`, log: () => out, exited };
}

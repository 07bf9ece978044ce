import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";

/**
 * Leadbot in local mode as a person meets it: `npx tsx src/main.ts` with no Slack credentials,
 * in a pseudo-terminal (script(1)). Typing goes to the console, which drives the real app through
 * the local Slack stand-in; the screen is read back by pattern.
 */
export interface LocalTerminal {
  /** Waits until `pattern` appears in output printed after the previous match. */
  see(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  type(line: string): void;
  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null>;
  /** Ends the process if it still runs. */
  stop(): Promise<void>;
}

/** Variables that would take the app out of local mode or away from its own data directory. */
const CLEARED = [
  "DATABASE_URL",
  "SLACK_BOT_TOKEN",
  "SLACK_SIGNING_SECRET",
  "SLACK_APP_TOKEN",
  "SLACK_API_URL",
  "LOG_LEVEL",
  "LEADBOT_ALERT_CHANNEL",
];

export function startLocalTerminal(opts: {
  dataDir: string;
  apiToken: string;
  stepTimeoutMs: number;
}): LocalTerminal {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LEADBOT_DATA_DIR: opts.dataDir,
    PORT: "0",
    LEADBOT_API_TOKEN: opts.apiToken,
  };
  for (const k of CLEARED) delete env[k];
  const child: ChildProcessWithoutNullStreams = spawn(
    "script",
    ["-qfec", "npx tsx src/main.ts", "/dev/null"],
    { env, cwd: process.cwd() },
  );
  let out = "";
  let cursor = 0;
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  child.stderr.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  return {
    async see(pattern, timeoutMs = opts.stepTimeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const rest = out.slice(cursor);
        const m = pattern.exec(rest);
        if (m) {
          cursor += m.index + m[0].length;
          return m;
        }
        if (child.exitCode !== null)
          throw new Error(`leadbot exited (${child.exitCode}):\n${out.slice(-3000)}`);
        if (Date.now() > until)
          throw new Error(
            `did not see ${pattern} within ${timeoutMs} ms; screen:\n${rest.slice(-3000)}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    type(line) {
      child.stdin.write(`${line}\n`);
    },
    async exited() {
      if (child.exitCode !== null) return child.exitCode;
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}

import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A Postgres server of the test's own (initdb in a temp directory, a free port), so a test can
 * restart it without touching the machine's shared server.
 */

/** The newest PostgreSQL install's bin directory that has initdb, if any. */
export function findPgBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], "bin") : undefined;
}

/** initdb refuses to run as root: then the server runs as the `postgres` system user. */
const AS_ROOT = process.getuid?.() === 0;

function run(cmd: string, args: string[]): Promise<string> {
  const [file, argv] = AS_ROOT ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const p = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    p.stderr.on("data", (b: Buffer) => {
      out += b.toString();
    });
    p.on("error", reject);
    p.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${out}`)),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgServer {
  url: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPgServer(bin: string): Promise<PgServer> {
  const dir = await mkdtemp(join(tmpdir(), "leadbot-pg-"));
  if (AS_ROOT) {
    const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim());
    await chown(dir, id("-u"), id("-g")).catch(() => chmod(dir, 0o777));
  }
  const data = join(dir, "data");
  const port = await freePort();
  await run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync"]);
  const ctl = (...args: string[]) => run(join(bin, "pg_ctl"), ["-D", data, "-w", ...args]);
  await ctl(
    "-l",
    join(dir, "server.log"),
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "start",
  );
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await ctl("-m", "fast", "restart");
    },
    async stop() {
      await ctl("-m", "immediate", "stop").catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

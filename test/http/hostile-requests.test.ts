import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../support/slack.js";

/**
 * The app in a process of its own, as it runs in production, sent requests that no client
 * library would make. Each must get a status and a sentence, and the process must keep serving.
 */

const API_TOKEN = "hostile-requests-token-0123456789";
const START_TIMEOUT_MS = 120_000;

/** Sends a request target exactly as written (fetch and URL would normalise it). */
function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path: target, method: "GET", headers: { connection: "close" } },
      (res) => {
        let body = "";
        res.on("data", (b: Buffer) => {
          body += b.toString("utf8");
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Writes bytes on a socket and returns whatever comes back before the server closes it. */
function rawBytes(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(bytes));
    let out = "";
    socket.on("data", (b: Buffer) => {
      out += b.toString("latin1");
    });
    socket.on("close", () => resolve(out));
    socket.on("error", () => resolve(out));
  });
}

describe("hostile requests against the running process", () => {
  let child: ChildProcess;
  let port = 0;
  let log = "";

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: "memory://",
      PORT: "0",
      LEADBOT_API_TOKEN: API_TOKEN,
      LEADBOT_DEMO: "off",
      LEADBOT_DECAY_CRON: "off",
      LOG_LEVEL: "info",
    };
    for (const k of ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"]) delete env[k];
    child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--no-console"], { env });
    child.stdout?.on("data", (b: Buffer) => {
      log += b.toString("utf8");
    });
    child.stderr?.on("data", (b: Buffer) => {
      log += b.toString("utf8");
    });
    port = Number(
      await eventually(() => {
        if (child.exitCode !== null) throw new Error(`leadbot exited:\n${log.slice(-3000)}`);
        return /"port":(\d+)[^\n]*"msg":"HTTP server listening"/.exec(log)?.[1];
      }, START_TIMEOUT_MS),
    );
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  });

  const expectAlive = async () => {
    expect(child.exitCode).toBeNull();
    const health = await rawGet(port, "/healthz");
    expect(health.status).toBe(200);
  };

  it.each([
    ["/api/v1/leads/%FF", 400, "percent-encoding"],
    ["/api/v1/leads/%", 400, "percent-encoding"],
    ["/api/v1/leads/%E0%A4%A", 400, "percent-encoding"],
    ["//", 404, "No route"],
    ["//api/v1/leads/%FF", 400, "percent-encoding"],
    ["/%", 404, "No route"],
    ["/api/v1/leads?top=%FF", 401, "token"],
    ["/nope/%C0%AF", 404, "No route"],
  ])(
    "when GET %s arrives without a token, then it answers %i with a sentence and keeps serving",
    async (target, status, words) => {
      const res = await rawGet(port, target);
      expect(res.status).toBe(status);
      const body = JSON.parse(res.body) as { error: string; message: string };
      expect(body.message).toContain(words);
      expect(body.message).toMatch(/\.$/);
      await expectAlive();
    },
  );

  it("when the request target is an absolute URL or an asterisk, then it is refused with 400", async () => {
    for (const target of ["http://evil.example/api/v1/leads", "*"]) {
      const out = await rawBytes(
        port,
        `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      expect(out).toMatch(/^HTTP\/1\.1 400 /);
    }
    await expectAlive();
  });

  it("when a request line is garbage or a connection drops mid-body, then the server stays up", async () => {
    const garbage = await rawBytes(port, "\u0000\u00ff GARBAGE\r\n\r\n");
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    await rawBytes(
      port,
      `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"events":[`,
    );
    await expectAlive();
  });

  it("when a malformed percent-encoding reaches an authenticated route, then it is a 400 that names the part", async () => {
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          path: "/api/v1/leads/%ZZ",
          method: "DELETE",
          headers: { authorization: `Bearer ${API_TOKEN}` },
        },
        (r) => {
          let body = "";
          r.on("data", (b: Buffer) => {
            body += b.toString("utf8");
          });
          r.on("end", () => resolve({ status: r.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toContain("key");
    await expectAlive();
  });
});

describe("the process-level last net", () => {
  it("when an exception and a rejection escape everything, then they are logged and the process lives", async () => {
    const proc = spawn(process.execPath, ["--import", "tsx", "test/fixtures/last-net-child.ts"]);
    let out = "";
    let err = "";
    proc.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
    });
    proc.stderr?.on("data", (b: Buffer) => {
      err += b.toString("utf8");
    });
    const [code] = await once(proc, "exit");
    expect(code).toBe(0);
    expect(out).toContain("alive caught=2");
    expect(`${out}${err}`).toContain("thrown where nothing catches");
  });
});

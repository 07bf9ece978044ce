import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import { eventually, TEST_ALERT_CHANNEL } from "../support/slack.js";

/**
 * The app as it runs in production, in a process of its own on an embedded database, killed with
 * SIGKILL while Slack is taking its alert post, then started again: the alert must end up posted
 * exactly once, found through the message metadata instead of posted a second time.
 */

const API_TOKEN = "kill-restart-test-token-0123456789";
const BOT_TOKEN = "xoxb-kill-restart";
/** A first start runs initdb; later starts open the directory. */
const START_TIMEOUT_MS = 120_000;

describe("alert delivery across a kill -9", () => {
  let dir: string;
  let standin: SlackStandin;
  let child: ChildProcess | undefined;
  let log = "";

  async function startApp(): Promise<string> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LEADBOT_DATA_DIR: dir,
      PORT: "0",
      LEADBOT_API_TOKEN: API_TOKEN,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: "kill-restart-signing-secret",
      SLACK_API_URL: standin.url,
      LEADBOT_ALERT_CHANNEL: TEST_ALERT_CHANNEL,
      LEADBOT_DEMO: "off",
      LEADBOT_DECAY_CRON: "off",
      LOG_LEVEL: "info",
    };
    for (const k of ["DATABASE_URL", "SLACK_APP_TOKEN"]) delete env[k];
    const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      env,
      cwd: process.cwd(),
    });
    child = proc;
    let out = "";
    proc.stdout?.on("data", (b: Buffer) => {
      out += b.toString("utf8");
      log += b.toString("utf8");
    });
    proc.stderr?.on("data", (b: Buffer) => {
      log += b.toString("utf8");
    });
    // The logger writes JSON lines; the HTTP server says where it listens.
    const port = await eventually(() => {
      if (proc.exitCode !== null)
        throw new Error(`leadbot exited (${proc.exitCode}):\n${log.slice(-3000)}`);
      const m = /"port":(\d+)[^\n]*"msg":"HTTP server listening"/.exec(out);
      return m?.[1];
    }, START_TIMEOUT_MS);
    return `http://127.0.0.1:${port}`;
  }

  async function post(base: string, path: string, body: unknown) {
    const res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "leadbot-kill-"));
    standin = await SlackStandin.start();
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await standin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    "when the app is killed while Slack takes the post, then after a restart the alert is posted once",
    async () => {
      let base = await startApp();
      // Slack takes the post but holds the answer for 3 s; the app is killed meanwhile.
      standin.failNext("chat.postMessage", { hangMs: 3_000 });
      const ingested = await post(base, "/api/v1/events", {
        events: [
          {
            id: "k-1",
            email: "ceo@initech.com",
            type: "demo_request",
            occurredAt: new Date().toISOString(),
          },
          {
            id: "k-2",
            email: "ceo@initech.com",
            type: "meeting_booked",
            occurredAt: new Date().toISOString(),
          },
        ],
      });
      // Accepted now; the scorer crosses the lead moments later and queues the alert.
      expect(ingested).toMatchObject({ accepted: 2, scoring: "pending" });
      await eventually(() => (standin.callsTo("chat.postMessage").length > 0 ? true : undefined));
      const killed = child as ChildProcess;
      killed.kill("SIGKILL");
      await once(killed, "exit");
      // Slack did the work even though nobody heard the answer.
      await eventually(() =>
        standin.messages(TEST_ALERT_CHANNEL).length === 1 ? true : undefined,
      );

      base = await startApp();
      // The restarted app releases the dead run's lease, looks for its post and finds it.
      await eventually(
        () => (standin.callsTo("conversations.history").length > 0 ? true : undefined),
        30_000,
      );
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      await eventually(() =>
        /"msg":"released alert leases left by an earlier run"/.test(log) ? true : undefined,
      );
      // The outbox empties only once the row is recorded as sent.
      await eventually(async () => {
        const text = await (await fetch(`${base}/metrics`)).text();
        return /^leadbot_alert_outbox_pending 0$/m.test(text) ? true : undefined;
      }, 30_000);
      expect(standin.callsTo("chat.postMessage")).toHaveLength(1);
      expect(standin.messages(TEST_ALERT_CHANNEL)).toHaveLength(1);
      const lead = await fetch(`${base}/api/v1/leads/ceo@initech.com`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      });
      expect(((await lead.json()) as { stage: string }).stage).toBe("mql");
    },
    4 * START_TIMEOUT_MS,
  );
});

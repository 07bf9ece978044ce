import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import { TEST_ALERT_CHANNEL } from "../support/slack.js";
import { type AppChild, startAppChild } from "./child.js";

/**
 * SIGTERM while a request is half-way through: the server stops taking new connections, lets the
 * one in flight finish and answer, closes the database and exits 0.
 */

const API_TOKEN = "sigterm-test-token-0123456789";

describe("shutdown on SIGTERM", () => {
  let dir: string;
  let standin: SlackStandin;
  let app: AppChild | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "leadbot-sigterm-"));
    standin = await SlackStandin.start();
  });

  afterAll(async () => {
    if (app && app.proc.exitCode === null) app.proc.kill("SIGKILL");
    await standin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("when SIGTERM comes while a request is in flight, then that request is answered and the process exits 0", async () => {
    app = await startAppChild({
      LEADBOT_DATA_DIR: dir,
      LEADBOT_API_TOKEN: API_TOKEN,
      SLACK_BOT_TOKEN: "xoxb-sigterm",
      SLACK_SIGNING_SECRET: "sigterm-signing-secret",
      SLACK_API_URL: standin.url,
      LEADBOT_ALERT_CHANNEL: TEST_ALERT_CHANNEL,
    });
    const child = app;
    const body = JSON.stringify({
      leads: [{ email: "drain@acme.com", firstName: "Drain", company: "Acme" }],
    });
    const url = new URL(child.base);
    const split = Math.floor(body.length / 2);
    const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: "/api/v1/leads",
          headers: {
            authorization: `Bearer ${API_TOKEN}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.on("data", (b: Buffer) => {
            text += b.toString("utf8");
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      // Half the body now: the request is in flight when SIGTERM arrives.
      req.write(body.slice(0, split));
      setTimeout(() => {
        child.proc.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(split)), 500);
      }, 300);
    });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ created: 1 });
    expect(await child.exited).toBe(0);
    expect(child.log()).not.toContain('"level":50');
  }, 180_000);
});

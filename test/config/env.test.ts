import { describe, expect, it } from "vitest";
import { ConfigError, isLocalMode, loadEnv } from "../../src/config/env.js";

function errorOf(env: Record<string, string>): string {
  try {
    loadEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("expected the environment to be rejected");
}

describe("loadEnv", () => {
  it("when nothing is set, then it runs in local mode on the embedded database", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 3000, LEADBOT_DATA_DIR: "./.data", LEADBOT_ADMINS: [] });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(isLocalMode(env)).toBe(true);
  });

  it("when LEADBOT_EVENT_RETENTION_DAYS is set, then it is a number of days of at least a month", () => {
    expect(loadEnv({}).LEADBOT_EVENT_RETENTION_DAYS).toBeUndefined();
    expect(loadEnv({ LEADBOT_EVENT_RETENTION_DAYS: "400" }).LEADBOT_EVENT_RETENTION_DAYS).toBe(400);
    for (const bad of ["7", "1.5", "a year"])
      expect(errorOf({ LEADBOT_EVENT_RETENTION_DAYS: bad })).toMatch(
        /^LEADBOT_EVENT_RETENTION_DAYS expects a whole number of days, at least 31/,
      );
  });

  it("when Slack credentials are set, then it is not local mode", () => {
    const env = loadEnv({ SLACK_BOT_TOKEN: "xoxb-1", SLACK_SIGNING_SECRET: "s" });
    expect(isLocalMode(env)).toBe(false);
  });

  it.each([
    [{ PORT: "http" }, "PORT expects a port number"],
    [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL expects a postgres:// URL or memory://"],
    [
      { SLACK_BOT_TOKEN: "xoxp-1", SLACK_SIGNING_SECRET: "s" },
      "SLACK_BOT_TOKEN expects a bot token starting with xoxb-",
    ],
    [
      { SLACK_BOT_TOKEN: "xoxb-1" },
      "SLACK_SIGNING_SECRET is required when the other Slack credential is set",
    ],
    [
      { LEADBOT_ALERT_CHANNEL: "#sales" },
      "LEADBOT_ALERT_CHANNEL expects a Slack channel id such as C0123456789",
    ],
    [
      { LEADBOT_ADMINS: "U012AB3CD, jane" },
      'LEADBOT_ADMINS expects Slack user ids such as U012AB3CD, got "jane"',
    ],
    [{ LEADBOT_API_TOKEN: "short" }, "LEADBOT_API_TOKEN expects at least 16 characters"],
    [
      { LEADBOT_DECAY_CRON: "hourly" },
      'LEADBOT_DECAY_CRON expects a cron expression such as "17 * * * *", or off',
    ],
  ])("when %o is given, then the one-line error names the variable", (env, message) => {
    expect(errorOf(env)).toContain(message);
  });

  it("when admins are listed with spaces, then they are trimmed", () => {
    expect(loadEnv({ LEADBOT_ADMINS: " U012AB3CD , W0987ZYX " }).LEADBOT_ADMINS).toEqual([
      "U012AB3CD",
      "W0987ZYX",
    ]);
  });
});

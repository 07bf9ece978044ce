import { describe, expect, it } from "vitest";
import { ConfigError, loadEnv } from "../../src/config/env.js";

function errorOf(env: Record<string, string>): string {
  try {
    loadEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error("expected the environment to be rejected");
}

describe("environment of suggestions, webhooks, digest and reminders", () => {
  it("when nothing is set, then the jobs run on their defaults and webhooks are off", () => {
    const env = loadEnv({});
    expect(env).toMatchObject({
      LEADBOT_SUGGEST_CRON: "0 6 * * 1",
      LEADBOT_DIGEST_CRON: "0 9 * * 1",
      LEADBOT_REMINDER_CRON: "0 9 * * *",
      LEADBOT_REMINDER_DAYS: 7,
      LEADBOT_TZ: "UTC",
    });
    expect(env.LEADBOT_WEBHOOK_URL).toBeUndefined();
  });

  it("when a job is off and the values are valid, then they are kept", () => {
    const env = loadEnv({
      LEADBOT_SUGGEST_CRON: "off",
      LEADBOT_TZ: "Europe/Berlin",
      LEADBOT_REMINDER_DAYS: "3",
      LEADBOT_WEBHOOK_URL: "https://crm.example.com/hooks/leadbot",
      LEADBOT_WEBHOOK_SECRET: "a-secret-of-sixteen+",
    });
    expect(env).toMatchObject({
      LEADBOT_SUGGEST_CRON: "off",
      LEADBOT_TZ: "Europe/Berlin",
      LEADBOT_REMINDER_DAYS: 3,
      LEADBOT_WEBHOOK_URL: "https://crm.example.com/hooks/leadbot",
    });
  });

  it.each([
    [
      { LEADBOT_SUGGEST_CRON: "weekly" },
      'LEADBOT_SUGGEST_CRON expects a cron expression such as "0 6 * * 1", or off',
    ],
    [{ LEADBOT_DIGEST_CRON: "mondays" }, "LEADBOT_DIGEST_CRON expects a cron expression"],
    [{ LEADBOT_REMINDER_CRON: "* *" }, "LEADBOT_REMINDER_CRON expects a cron expression"],
    [{ LEADBOT_REMINDER_DAYS: "0" }, "LEADBOT_REMINDER_DAYS expects at least 1 day"],
    [{ LEADBOT_REMINDER_DAYS: "1.5" }, "LEADBOT_REMINDER_DAYS expects a whole number of days"],
    [{ LEADBOT_TZ: "Mars/Olympus" }, "LEADBOT_TZ expects an IANA time zone"],
    [
      { LEADBOT_WEBHOOK_URL: "ftp://crm.example.com" },
      "LEADBOT_WEBHOOK_URL expects an http(s) URL",
    ],
    [
      { LEADBOT_WEBHOOK_URL: "https://crm.example.com/hook" },
      "LEADBOT_WEBHOOK_SECRET is required with LEADBOT_WEBHOOK_URL",
    ],
    [
      { LEADBOT_WEBHOOK_URL: "https://crm.example.com/hook", LEADBOT_WEBHOOK_SECRET: "short" },
      "LEADBOT_WEBHOOK_SECRET expects at least 16 characters",
    ],
  ])("when %o is given, then the one-line error names the variable", (env, message) => {
    expect(errorOf(env)).toContain(message);
  });
});

import cron from "node-cron";
import { z } from "zod";

const slackUserId = /^[UW][A-Z0-9]{2,}$/;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** A cron expression, or "off"; `fallback` when unset. */
function cronOrOff(fallback: string) {
  return z
    .string()
    .trim()
    .default(fallback)
    .refine((v) => v === "off" || cron.validate(v), {
      message: `expects a cron expression such as "${fallback}", or off`,
    });
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const envSchema = z
  .object({
    DATABASE_URL: optionalString.pipe(
      z
        .string()
        .refine((v) => v === "memory://" || /^postgres(ql)?:\/\//.test(v), {
          message: "expects a postgres:// URL or memory://",
        })
        .optional(),
    ),
    LEADBOT_DATA_DIR: z.string().min(1).default("./.data"),
    SLACK_BOT_TOKEN: optionalString.pipe(
      z.string().startsWith("xoxb-", "expects a bot token starting with xoxb-").optional(),
    ),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString.pipe(
      z.string().startsWith("xapp-", "expects an app-level token starting with xapp-").optional(),
    ),
    SLACK_API_URL: optionalString.pipe(
      z.url({ message: "expects an http(s) URL such as https://slack.com/api/" }).optional(),
    ),
    PORT: z.coerce
      .number({ message: "expects a port number" })
      .int("expects a whole port number")
      .min(0)
      .max(65535)
      .default(3000),
    LEADBOT_ALERT_CHANNEL: optionalString.pipe(
      z
        .string()
        .regex(/^[CGD][A-Z0-9]{2,}$/, "expects a Slack channel id such as C0123456789")
        .optional(),
    ),
    LEADBOT_ADMINS: optionalString.transform((v, ctx) => {
      const ids = (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = ids.find((id) => !slackUserId.test(id));
      if (bad) {
        ctx.addIssue({
          code: "custom",
          message: `expects Slack user ids such as U012AB3CD, got "${bad}"`,
        });
        return z.NEVER;
      }
      return ids;
    }),
    LEADBOT_API_TOKEN: optionalString.pipe(
      z.string().min(16, "expects at least 16 characters").optional(),
    ),
    /** Key of the suppression hashes of erased people; unset, one is generated and kept in the db. */
    LEADBOT_SUPPRESSION_KEY: optionalString.pipe(
      z.string().min(16, "expects at least 16 characters").optional(),
    ),
    LEADBOT_MODEL_FILE: optionalString,
    /** Cron expression of the decay refresh; "off" disables it. */
    LEADBOT_DECAY_CRON: z
      .string()
      .trim()
      .default("17 * * * *")
      .refine((v) => v === "off" || cron.validate(v), {
        message: 'expects a cron expression such as "17 * * * *", or off',
      }),
    /** Above this many MQL/SQL crossings from one model change or backfill, one summary. */
    LEADBOT_ALERT_BURST: optionalString.transform((v, ctx) => {
      if (v === undefined) return 10;
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) {
        ctx.addIssue({
          code: "custom",
          message: `expects a whole number of leads (0 or more) such as 10, got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    }),
    /** Cron expression of the weekly suggestion; "off" disables it. */
    LEADBOT_SUGGEST_CRON: cronOrOff("0 6 * * 1"),
    /** Cron expression of the weekly digest; "off" disables it. */
    LEADBOT_DIGEST_CRON: cronOrOff("0 9 * * 1"),
    /** Cron expression of the daily reminders of alerts without an outcome; "off" disables them. */
    LEADBOT_REMINDER_CRON: cronOrOff("0 9 * * *"),
    /** Alerts older than this many days without an outcome are in the reminder. */
    LEADBOT_REMINDER_DAYS: z.coerce
      .number({ message: "expects a whole number of days" })
      .int("expects a whole number of days")
      .min(1, "expects at least 1 day")
      .max(365, "expects at most 365 days")
      .default(7),
    /** Time zone of the digest and reminder schedules. */
    LEADBOT_TZ: z
      .string()
      .trim()
      .default("UTC")
      .refine(isTimeZone, { message: "expects an IANA time zone such as Europe/Berlin or UTC" }),
    LEADBOT_WEBHOOK_URL: optionalString.pipe(
      z
        .url({
          protocol: /^https?$/,
          message: "expects an http(s) URL such as https://crm.example.com/hooks/leadbot",
        })
        .optional(),
    ),
    LEADBOT_WEBHOOK_SECRET: optionalString.pipe(
      z.string().min(16, "expects at least 16 characters").optional(),
    ),
    /** Load the demo data set into an empty database at start (default: in local mode only). */
    LEADBOT_DEMO: optionalString.pipe(z.enum(["on", "off"]).optional()),
    /** When set, GET /metrics asks for it as Authorization: Bearer <token>. */
    LEADBOT_METRICS_TOKEN: optionalString.pipe(
      z.string().min(16, "expects at least 16 characters").optional(),
    ),
    /** Model-change proposals one person may make in an hour (each DMs every manager). */
    LEADBOT_PROPOSALS_PER_HOUR: z.coerce
      .number({ message: "expects a whole number of proposals" })
      .int("expects a whole number of proposals")
      .min(1, "expects at least 1")
      .default(5),
    /**
     * Raw events older than this many days are dropped, a whole month at a time, by the hourly
     * event-store job; scores keep their contribution. Unset keeps every event.
     */
    LEADBOT_EVENT_RETENTION_DAYS: optionalString.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 31) {
        ctx.addIssue({
          code: "custom",
          message: `expects a whole number of days, at least 31 (one month), such as 400, or unset to keep every event; got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    }),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
  })
  .superRefine((e, ctx) => {
    if (Boolean(e.SLACK_BOT_TOKEN) !== Boolean(e.SLACK_SIGNING_SECRET) && !e.SLACK_APP_TOKEN) {
      ctx.addIssue({
        code: "custom",
        path: [e.SLACK_BOT_TOKEN ? "SLACK_SIGNING_SECRET" : "SLACK_BOT_TOKEN"],
        message: "is required when the other Slack credential is set (unset both for local mode)",
      });
    }
    if (e.LEADBOT_WEBHOOK_URL && !e.LEADBOT_WEBHOOK_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["LEADBOT_WEBHOOK_SECRET"],
        message: "is required with LEADBOT_WEBHOOK_URL: every webhook is signed with it",
      });
    }
    if (e.SLACK_APP_TOKEN && !e.SLACK_BOT_TOKEN) {
      ctx.addIssue({
        code: "custom",
        path: ["SLACK_BOT_TOKEN"],
        message: "is required with SLACK_APP_TOKEN (Socket Mode)",
      });
    }
  });

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  readonly code = "config_invalid";
}

/** Parses the environment once; the error is one line naming the variable and what it expects. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue?.path[0] ?? "environment";
  throw new ConfigError(`${String(name)} ${issue?.message ?? "is invalid"}`);
}

export function isLocalMode(env: Env): boolean {
  return !env.SLACK_BOT_TOKEN;
}

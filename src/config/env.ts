import cron from "node-cron";
import { z } from "zod";

const slackUserId = /^[UW][A-Z0-9]{2,}$/;

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

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
    LEADBOT_MODEL_FILE: optionalString,
    /** Cron expression of the decay refresh; "off" disables it. */
    LEADBOT_DECAY_CRON: z
      .string()
      .trim()
      .default("17 * * * *")
      .refine((v) => v === "off" || cron.validate(v), {
        message: 'expects a cron expression such as "17 * * * *", or off',
      }),
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

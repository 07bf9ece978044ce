import { pino } from "pino";

export type Logger = pino.Logger;

/** What stands in for a value the log must not keep. */
export const REDACTED = "[redacted]";

/**
 * Log fields that may carry personal data (lead emails, names, request bodies, tokens): pino
 * replaces them wherever they appear at these paths.
 */
const REDACT_PATHS = [
  "url",
  "req.url",
  "body",
  "req.body",
  "email",
  "*.email",
  "lead",
  "key",
  "params",
  "headers.authorization",
  "req.headers.authorization",
  "token",
];

/** Error properties where drivers put bound parameters or row data ("Key (email)=(…)"). */
const ERROR_DATA_KEYS = ["params", "parameters", "detail", "where", "values", "body"];

/** How deep a chain of `cause`s is followed; drizzle wraps the driver's error once. */
const MAX_CAUSE_DEPTH = 5;

function scrubError(value: unknown, depth = 0): unknown {
  if (!value || typeof value !== "object" || depth > MAX_CAUSE_DEPTH) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of ERROR_DATA_KEYS) if (key in out) out[key] = REDACTED;
  // drizzle puts the whole statement and its parameters in the message: keep the first line only.
  if (typeof out.message === "string" && /\nparams:/.test(out.message)) {
    out.message = `${out.message.split("\nparams:")[0]}\nparams: ${REDACTED}`;
  }
  if (typeof out.stack === "string" && /\nparams:/.test(out.stack)) {
    out.stack = out.stack.replace(/\nparams:[^\n]*/, `\nparams: ${REDACTED}`);
  }
  if ("cause" in out) out.cause = scrubError(out.cause, depth + 1);
  return out;
}

/** pino's error serializer, minus the bound parameters and row data drivers attach to errors. */
function errSerializer(err: unknown): unknown {
  return scrubError(pino.stdSerializers.err(err as Error));
}

/** The options every logger of the app shares: redaction and the scrubbing error serializer. */
export function loggerOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: { app: "leadbot" },
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    serializers: { err: errSerializer, error: errSerializer },
  };
}

export function createLogger(
  level: string = process.env.LOG_LEVEL ?? "info",
  destination?: pino.DestinationStream,
): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

/** Silent logger for tests and library use. */
export const silentLogger: Logger = pino({ level: "silent" });

import { webApi } from "@slack/bolt";

export type WebClient = webApi.WebClient;

/** Long enough for a slow Slack, short enough that a hung request does not stall the outbox. */
export const SLACK_TIMEOUT_MS = 10_000;

export interface SlackClientOptions {
  timeoutMs?: number;
}

/**
 * A Web API client that never retries on its own: the default policy waits up to half an hour
 * inside one call, and the alert dispatcher keeps its own schedule in the outbox instead.
 */
export function createSlackClient(
  token: string,
  apiUrl?: string,
  opts: SlackClientOptions = {},
): WebClient {
  return new webApi.WebClient(token, {
    slackApiUrl: apiUrl ?? "https://slack.com/api/",
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: opts.timeoutMs ?? SLACK_TIMEOUT_MS,
    logLevel: webApi.LogLevel.ERROR,
  });
}

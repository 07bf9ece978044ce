import { createHmac } from "node:crypto";
import type { Db } from "../../db/client.js";
import { type ClaimedMessage, queueWebhooks } from "../../db/queries/outbox.js";
import type { Logger } from "../../lib/logger.js";
import { createMessageDispatcher, type MessageDispatcher } from "./messages.js";
import { SinkError } from "./sink.js";

/** The webhook sink: signed HTTP POSTs of stage changes, outcomes and model activations. */

export const WEBHOOK_KIND = "webhook";
export const SIGNATURE_HEADER = "x-leadbot-signature";
export const TIMESTAMP_HEADER = "x-leadbot-request-timestamp";
/** A receiver that has not answered in this long is taken as down, and the row retried. */
const TIMEOUT_MS = 10_000;
/** Without Retry-After, a 429 waits this long. */
const DEFAULT_RETRY_AFTER_MS = 30_000;

export type WebhookType = "lead.stage_changed" | "lead.outcome" | "model.activated";

export interface WebhookBody {
  type: WebhookType;
  id: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** `v0=` + hex HMAC-SHA256(secret, "v0:" + timestamp + ":" + body): Slack's scheme, our header. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
}

export interface WebhookSinkOptions {
  url: string;
  secret: string;
  /** Epoch ms; the timestamp header is in whole seconds of it. */
  clock?: () => number;
  timeoutMs?: number;
}

/** Delivers one webhook row; a 2xx is delivered, 429/5xx/timeouts retried, other 4xx permanent. */
export function createWebhookSink(opts: WebhookSinkOptions) {
  const clock = opts.clock ?? Date.now;
  return async function deliver(row: ClaimedMessage): Promise<string | null> {
    const body = JSON.stringify(row.payload);
    const timestamp = String(Math.floor(clock() / 1000));
    let res: Response;
    try {
      res = await fetch(opts.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Leadbot-Webhooks/1",
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(opts.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? TIMEOUT_MS),
      });
    } catch (err) {
      throw SinkError.transient(
        `webhook: ${(err as Error).name === "TimeoutError" ? "timeout" : (err as Error).message}`,
      );
    }
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return String(res.status);
    if (res.status === 429) {
      const after = Number(res.headers.get("retry-after"));
      throw SinkError.rateLimited(
        Number.isFinite(after) && after > 0 ? after * 1000 : DEFAULT_RETRY_AFTER_MS,
        "webhook: 429",
      );
    }
    if (res.status >= 500 || res.status === 408)
      throw SinkError.transient(`webhook: ${res.status}`);
    throw SinkError.permanent(`webhook: ${res.status}`);
  };
}

export interface WebhookDispatcherOptions extends WebhookSinkOptions {
  db: Db;
  instanceId: string;
  logger: Logger;
  pollMs?: number;
  random?: () => number;
}

/**
 * Queues a webhook row for each new stage change, outcome and model version, then delivers the
 * due rows, signed; a 4xx fails a row at once (resending it cannot help).
 */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions): MessageDispatcher {
  return createMessageDispatcher({
    db: opts.db,
    name: "webhooks",
    kinds: [WEBHOOK_KIND],
    instanceId: opts.instanceId,
    logger: opts.logger,
    deliver: createWebhookSink(opts),
    beforeRun: async () => {
      await queueWebhooks(opts.db);
    },
    maxPermanentAttempts: 1,
    ...(opts.pollMs ? { pollMs: opts.pollMs } : {}),
    ...(opts.random ? { random: opts.random } : {}),
  });
}

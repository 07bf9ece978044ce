import type { RespondFn } from "@slack/bolt";
import { DomainError } from "../../services/errors.js";
import { buildNotice } from "../blocks/common.js";
import type { SlackDeps } from "../deps.js";

/** What a person sees when something failed that they cannot fix. */
export const INTERNAL_ERROR =
  ":warning: Something went wrong on Leadbot's side; the app's log has the details. Try again in a moment.";

/**
 * Turns a failure into an ephemeral answer: a domain error's own sentence, or a generic one with
 * the detail in the log.
 */
export async function reportError(
  deps: SlackDeps,
  respond: RespondFn | undefined,
  err: unknown,
  where: string,
): Promise<void> {
  const text = err instanceof DomainError ? `:warning: ${err.message}` : INTERNAL_ERROR;
  if (!(err instanceof DomainError)) deps.logger.error({ err, where }, "slack handler failed");
  if (!respond) return;
  try {
    await respond({ ...buildNotice(text), replace_original: false });
  } catch (e) {
    deps.logger.warn({ err: e, where }, "could not tell the user about an error");
  }
}

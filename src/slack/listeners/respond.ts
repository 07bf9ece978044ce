import type { RespondFn } from "@slack/bolt";
import { DomainError, StaleActionError } from "../../services/errors.js";
import { escapeMrkdwn } from "../blocks/alert.js";
import { buildNotice, mention } from "../blocks/common.js";
import type { SlackDeps } from "../deps.js";

/** What a person sees when something failed that they cannot fix. */
export const INTERNAL_ERROR =
  ":warning: Something went wrong on Leadbot's side; the app's log has the details. Try again in a moment.";

/** What a form shows (plain text) when saving failed for a reason the person cannot fix. */
export const FORM_INTERNAL_ERROR = "Leadbot could not save this; try again in a moment.";

/** A domain error's sentence as Slack mrkdwn: its user fields become mentions, the rest escaped. */
export function slackText(err: DomainError): string {
  return err.render((value) => mention(value), escapeMrkdwn);
}

/**
 * Turns a failure into an ephemeral answer: a domain error's own sentence, or a generic one with
 * the detail in the log. A stale button is answered here like any other domain error.
 */
export async function reportError(
  deps: SlackDeps,
  respond: RespondFn | undefined,
  err: unknown,
  where: string,
): Promise<void> {
  const text = err instanceof DomainError ? `:warning: ${slackText(err)}` : INTERNAL_ERROR;
  if (err instanceof StaleActionError) deps.logger.warn({ where, detail: err.detail }, err.message);
  else if (!(err instanceof DomainError)) deps.logger.error({ err, where }, "slack handler failed");
  if (!respond) return;
  try {
    await respond({ ...buildNotice(text), replace_original: false });
  } catch (e) {
    deps.logger.warn({ err: e, where }, "could not tell the user about an error");
  }
}

/**
 * The sentence a modal shows under one of its inputs for a failure (view errors are plain text,
 * so user fields stay plain ids): a domain error's own, or a generic one with the detail logged.
 */
export function formError(deps: SlackDeps, err: unknown, where: string): string {
  if (err instanceof StaleActionError) deps.logger.warn({ where, detail: err.detail }, err.message);
  else if (!(err instanceof DomainError)) deps.logger.error({ err, where }, "slack form failed");
  return err instanceof DomainError ? err.message : FORM_INTERNAL_ERROR;
}

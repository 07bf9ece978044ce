import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from "@slack/bolt";
import { StaleActionError } from "../../services/errors.js";
import type { PostedAlert } from "../../services/feedback.js";
import type { OutcomeResult } from "../../services/team.js";
import type { WebClient } from "../client.js";
import type { SlackDeps } from "../deps.js";
import { type AlertActionValue, decodeAlertAction } from "../ids.js";
import { createSlackSink } from "../sink/index.js";
import { reportError } from "./respond.js";

export type AlertChange =
  | { kind: "resolved"; outcome: OutcomeResult }
  | { kind: "claimed"; by: string };

/** Where the alert message lives: the stored post, else the message the button was on. */
export interface MessageRef {
  channel?: string | undefined;
  ts?: string | undefined;
}

/**
 * Rewrites an alert message in place (chat.update) to show its outcome or who claimed it. The
 * outcome is already recorded, so a failed update is logged, not raised: the record is what counts.
 */
export async function updateAlertMessage(
  deps: SlackDeps,
  client: WebClient,
  alert: PostedAlert,
  change: AlertChange,
  fallback: MessageRef = {},
): Promise<boolean> {
  const channel = alert.channel ?? fallback.channel;
  const ts = alert.messageTs ?? fallback.ts;
  if (!channel || !ts) return false;
  const lead = await deps.services.alerts.lead(alert.leadId);
  if (!lead) return false;
  const status =
    change.kind === "resolved"
      ? {
          kind: "resolved" as const,
          outcome: change.outcome.outcome,
          by: change.outcome.by,
          at: change.outcome.at,
          reason: change.outcome.reason,
        }
      : { kind: "claimed" as const, by: change.by };
  try {
    await createSlackSink(client).update(
      { channel, id: ts },
      {
        kind: "stage_alert",
        alertId: alert.id,
        leadId: alert.leadId,
        stage: alert.stage === "sql" ? "sql" : "mql",
        lead,
        status,
      },
    );
    return true;
  } catch (err) {
    deps.logger.warn({ err, alertId: alert.id }, "could not update the alert message");
    return false;
  }
}

/** The alert a button names, falling back to the lead's newest posted alert. */
export async function findAlert(
  deps: SlackDeps,
  ref: { alertId?: number | undefined; leadId: number },
): Promise<PostedAlert | undefined> {
  if (ref.alertId !== undefined) {
    const a = await deps.services.alerts.byId(ref.alertId);
    if (a) return a;
  }
  return deps.services.alerts.latestPosted(ref.leadId);
}

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * A listener for a button on an alert: acks, reads which alert and lead the button names, lets
 * `act` record what the click means, then rewrites the alert message to show it. Errors reach
 * the clicker as a plain sentence.
 */
export function alertButton(
  deps: SlackDeps,
  what: string,
  act: (ref: AlertActionValue, user: string) => Promise<AlertChange>,
) {
  return async ({ ack, action, body, client, respond }: ButtonArgs): Promise<void> => {
    await ack();
    try {
      const ref = decodeAlertAction(action.value);
      if (!ref) throw new StaleActionError(`alert button value: ${action.value}`);
      const change = await act(ref, body.user.id);
      const alert = await findAlert(deps, ref);
      if (alert) {
        await updateAlertMessage(deps, client, alert, change, {
          channel: body.channel?.id,
          ts: body.message?.ts,
        });
      }
    } catch (err) {
      await reportError(deps, respond, err, what);
    }
  };
}

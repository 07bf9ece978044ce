import type { SlackDeps } from "../../deps.js";
import { alertButton } from "../alert-message.js";

/**
 * Won and Not a fit on an alert: record the outcome (who, when, from which alert) and rewrite
 * the alert to say so. The service locks the lead and keeps one record of the same outcome, so
 * a double click or a repeated request records it once.
 */
export function alertOutcome(deps: SlackDeps, outcome: "won" | "not_a_fit") {
  return alertButton(deps, `alert ${outcome}`, async (ref, user) => ({
    kind: "resolved",
    outcome: await deps.services.leads.recordOutcome({
      lead: ref.leadId,
      outcome,
      by: user,
      source: "slack-alert",
      alertId: ref.alertId,
    }),
  }));
}

import type { SlackDeps } from "../../deps.js";
import { alertButton } from "../alert-message.js";

/** Claim: the lead becomes the clicker's, unless someone else holds it (they are named). */
export function alertClaim(deps: SlackDeps) {
  return alertButton(deps, "alert claim", async (ref, user) => {
    await deps.services.leads.assign({ lead: ref.leadId, owner: user, by: user, claim: true });
    return { kind: "claimed", by: user };
  });
}

import type { SlackMessage } from "./alert.js";
import { context, section } from "./common.js";

/** What an alert or DM about an erased lead becomes: no name, no buttons, nothing to act on. */
export function buildErasedMessage(at: Date): SlackMessage {
  const text = "Erased lead: this lead's personal data was deleted on request.";
  return {
    text,
    blocks: [
      section(`:wastebasket: *Erased lead*`),
      context(
        `This lead's personal data was deleted on request on ${at.toISOString().slice(0, 10)}.`,
      ),
    ],
  };
}

import type { types } from "@slack/bolt";
import { z } from "zod";
import { LOST_REASONS, type LostReason } from "../../services/team.js";
import {
  LOST_NOTE_ACTION,
  LOST_NOTE_BLOCK,
  LOST_REASON_ACTION,
  LOST_REASON_BLOCK,
  LOST_REASON_MODAL,
} from "../ids.js";
import { escapeMrkdwn, section, truncate } from "./common.js";

export const LOST_REASON_LABEL: Record<LostReason, string> = {
  no_budget: "No budget",
  no_decision: "No decision / stalled",
  chose_competitor: "Chose a competitor",
  bad_timing: "Bad timing",
  no_response: "Stopped responding",
  other: "Other (say what in the note)",
};
/** A note is a sentence or two for the person reading the outcome later. */
export const MAX_NOTE = 500;

/** What the Lost modal carries between opening and submission. */
export const lostMetaSchema = z.object({
  leadId: z.number().int(),
  alertId: z.number().int().optional(),
  channel: z.string().optional(),
  ts: z.string().optional(),
  /** Opened from an alert's Lost button or from `/lead lost`. */
  from: z.enum(["alert", "command"]).default("alert"),
});
export type LostMeta = z.input<typeof lostMetaSchema>;

export function buildLostModal(meta: LostMeta, leadLabel: string): types.ModalView {
  return {
    type: "modal",
    callback_id: LOST_REASON_MODAL,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: "Lead lost" },
    submit: { type: "plain_text", text: "Mark lost" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      section(
        `Why was *${escapeMrkdwn(truncate(leadLabel, 200))}* lost? The reason feeds back into scoring.`,
      ),
      {
        type: "input",
        block_id: LOST_REASON_BLOCK,
        label: { type: "plain_text", text: "Reason" },
        element: {
          type: "static_select",
          action_id: LOST_REASON_ACTION,
          placeholder: { type: "plain_text", text: "Choose a reason" },
          options: LOST_REASONS.map((r) => ({
            text: { type: "plain_text", text: LOST_REASON_LABEL[r] },
            value: r,
          })),
        },
      },
      {
        type: "input",
        block_id: LOST_NOTE_BLOCK,
        optional: true,
        label: { type: "plain_text", text: "Note" },
        hint: { type: "plain_text", text: "Required when the reason is Other." },
        element: {
          type: "plain_text_input",
          action_id: LOST_NOTE_ACTION,
          multiline: true,
          max_length: MAX_NOTE,
        },
      },
    ],
  };
}

/** The submitted values, parsed once at the edge; field errors keyed by block id for Slack. */
export function parseLostSubmission(
  values: Record<
    string,
    Record<string, { selected_option?: { value?: string } | null; value?: string | null }>
  >,
):
  | { ok: true; reason: LostReason; note: string | undefined }
  | { ok: false; errors: Record<string, string> } {
  const reason = values[LOST_REASON_BLOCK]?.[LOST_REASON_ACTION]?.selected_option?.value;
  const note = values[LOST_NOTE_BLOCK]?.[LOST_NOTE_ACTION]?.value?.trim() || undefined;
  if (!reason || !(LOST_REASONS as readonly string[]).includes(reason)) {
    return { ok: false, errors: { [LOST_REASON_BLOCK]: "Choose a reason." } };
  }
  if (reason === "other" && !note) {
    return {
      ok: false,
      errors: { [LOST_NOTE_BLOCK]: "Say what happened when the reason is Other." },
    };
  }
  if (note && note.length > MAX_NOTE) {
    return {
      ok: false,
      errors: { [LOST_NOTE_BLOCK]: `Keep the note under ${MAX_NOTE} characters.` },
    };
  }
  return { ok: true, reason: reason as LostReason, note };
}

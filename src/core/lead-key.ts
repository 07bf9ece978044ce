/**
 * How a lead is named wherever a person or a program names one (API, `/lead`, CLI): an email is an
 * email, `id:42` the internal id, `ext:42` the externalId, and a bare value is looked up as an
 * externalId first, then (digits only) as an internal id.
 */
export type LeadKeyForm =
  | { kind: "email"; email: string }
  | { kind: "id"; id: number }
  | { kind: "ext"; externalId: string }
  | { kind: "bare"; value: string }
  | { kind: "invalid"; reason: string };

/** The forms a caller can use when a bare key is not allowed (erasure). */
export const UNAMBIGUOUS_KEY_FORMS = "an email, id:<internal id> or ext:<externalId>";

import { storable, UNSTORABLE_MESSAGE } from "./text.js";

/** A value with an @ and a dot after it is taken as an email; the store checks it further. */
const EMAIL_LIKE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function parseLeadKey(raw: string): LeadKeyForm {
  const k = raw.trim();
  if (k === "") return { kind: "invalid", reason: `Name a lead: ${UNAMBIGUOUS_KEY_FORMS}.` };
  // No lead is named by a NUL or half a surrogate pair, and the store cannot even look one up.
  if (!storable(k))
    return {
      kind: "invalid",
      reason: `A lead's name ${UNSTORABLE_MESSAGE}: use ${UNAMBIGUOUS_KEY_FORMS}.`,
    };
  const prefixed = /^(id|ext):(.*)$/i.exec(k);
  if (prefixed) {
    const value = (prefixed[2] ?? "").trim();
    if ((prefixed[1] ?? "").toLowerCase() === "id") {
      const id = Number(value);
      if (!/^\d+$/.test(value) || !Number.isSafeInteger(id) || id <= 0)
        return { kind: "invalid", reason: `"${k}": id: takes a positive whole number.` };
      return { kind: "id", id };
    }
    if (value === "") return { kind: "invalid", reason: `"${k}": ext: takes an externalId.` };
    return { kind: "ext", externalId: value };
  }
  if (EMAIL_LIKE.test(k)) return { kind: "email", email: k.toLowerCase() };
  return { kind: "bare", value: k };
}

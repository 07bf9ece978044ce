/**
 * Every failure a person can act on, as a closed set: adapters map a code to their own answer
 * (the HTTP router to a status, Slack to a sentence with mentions), so a new code is added here.
 */
export type ErrorCode =
  /** The lead, proposal, model version or token named does not exist. */
  | "not_found"
  /** The caller's role does not allow it. */
  | "forbidden"
  /** Someone else owns the lead already (`owner`). */
  | "already_claimed"
  /** The proposal was decided already (`decidedBy`). */
  | "proposal_decided"
  /** The proposal's base model is no longer the active one. */
  | "proposal_stale"
  /** A proposed change changes nothing. */
  | "no_change"
  /** A CSV file that cannot be read as one. */
  | "csv_invalid"
  /** Slack's trigger for opening a form expired before the form opened. */
  | "expired_trigger"
  /** A button or form made by an older message or release: it names nothing we can act on. */
  | "stale_action"
  /** A proposed model that the model schema refuses (`field`, and `line` for a file). */
  | "model_invalid"
  /** Filters, a view name or routing rules that do not validate; the sentence says which. */
  | "invalid_input"
  /** A lead key in a form that is not accepted here (a bare key where erasure wants one form). */
  | "invalid_lead_key"
  /** The person made as many of these as allowed for now (`limit` in the sentence). */
  | "rate_limited";

/** User ids a message names; adapters show them their own way (Slack mentions them). */
export type ErrorFields = Readonly<Record<string, string>>;

/**
 * A failure the user can act on: a stable `code` for programs, a plain sentence for people. The
 * sentence is a template whose `{name}` placeholders are `fields`; `message` shows them as is.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly template: string,
    readonly fields: ErrorFields = {},
  ) {
    super(fill(template, fields, (v) => v));
    this.name = "DomainError";
  }

  /** The sentence with each field shown by `show` (a Slack mention) and the rest by `text`. */
  render(
    show: (value: string, name: string) => string,
    text: (literal: string) => string = (s) => s,
  ): string {
    return fill(this.template, this.fields, show, text);
  }
}

function fill(
  template: string,
  fields: ErrorFields,
  show: (value: string, name: string) => string,
  text: (literal: string) => string = (s) => s,
): string {
  let out = "";
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    const value = fields[m[1] ?? ""];
    if (value === undefined) continue;
    out += text(template.slice(last, m.index)) + show(value, m[1] ?? "");
    last = m.index + m[0].length;
  }
  return out + text(template.slice(last));
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super("not_found", message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super("forbidden", message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(message: string) {
    super("rate_limited", message);
  }
}

export class ConflictError extends DomainError {
  constructor(
    code: Extract<ErrorCode, "already_claimed" | "proposal_decided" | "proposal_stale">,
    template: string,
    fields: ErrorFields = {},
  ) {
    super(code, template, fields);
  }
}

/** One answer for every button or form that is out of date, wherever it was pressed. */
export class StaleActionError extends DomainError {
  constructor(readonly detail?: string) {
    super(
      "stale_action",
      "This button or form is out of date. Close it and start again from the latest message or command.",
    );
  }
}

/** One problem with a proposed model: the field's dotted path, its line in a file, a sentence. */
export interface ModelProblem {
  field: string;
  line?: number | undefined;
  message: string;
}

/** A proposed model the schema refuses; the first problem is the message, all are listed. */
export class InvalidModelError extends DomainError {
  constructor(readonly problems: readonly ModelProblem[]) {
    const first = problems[0];
    super(
      "model_invalid",
      first
        ? `${first.field || "The model"}${first.line ? ` (line ${first.line})` : ""}: ${first.message}`
        : "The model is not valid.",
    );
    this.name = "InvalidModelError";
  }
}

/** Filters, a view name or routing rules that do not validate; the sentence says which. */
export class InvalidInputError extends DomainError {
  constructor(message: string) {
    super("invalid_input", message);
  }
}

/** A lead key that does not say which lead it means; the sentence lists the forms to use. */
export class LeadKeyError extends DomainError {
  constructor(message: string) {
    super("invalid_lead_key", message);
  }
}

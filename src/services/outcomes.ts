import { z } from "zod";
import { storable, UNSTORABLE_MESSAGE } from "../core/text.js";
import type { Db } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import { currentScore, lockLead } from "../db/queries/leads.js";
import {
  type ClosureRow,
  closureOf,
  hasOutcomeAt,
  insertOutcome,
  latestOutcome,
  setClosure,
} from "../db/queries/outcomes.js";
import { DomainError, ForbiddenError, NotFoundError } from "./errors.js";
import { MAX_BATCH_ITEMS } from "./ingest.js";
import { type ItemError, itemErrors } from "./inputs.js";
import { resolveLeadId } from "./leads.js";
import { canApprove, roleOf } from "./team.js";

export type OutcomeKind = "won" | "lost" | "not_a_fit";
export type OutcomeSource = "slack-alert" | "slack-command" | "api" | "cli";

/** Outcomes that close a lead: it is no longer alerted on, until it is reopened. */
export const CLOSING_OUTCOMES: readonly OutcomeKind[] = ["won", "not_a_fit"];
/** Longest reason or note accepted: a CRM's free text, not a document. */
const MAX_OUTCOME_TEXT = 500;
/** Outcomes before this are a unit mistake (epoch seconds sent as milliseconds). */
const OLDEST_OUTCOME = Date.UTC(2000, 0, 1);
/** Clock skew tolerated between the CRM and us before an outcome counts as in the future. */
const FUTURE_SKEW_MS = 5 * 60_000;

export interface OutcomeInput {
  lead: string | number;
  outcome: OutcomeKind;
  by: string;
  source: OutcomeSource;
  alertId?: number | undefined;
  reason?: string | undefined;
  note?: string | undefined;
  /** When the outcome happened (a CRM's close date); now when absent. */
  at?: Date | undefined;
}

export interface OutcomeResult {
  leadId: number;
  recorded: boolean;
  /** The outcome now on record (the existing one when nothing new was recorded). */
  outcome: OutcomeKind;
  by: string;
  at: Date;
  reason: string | null;
}

/** Why a lead is closed, as `/lead show` and `GET /api/v1/leads/:key` report it. */
export interface Closure {
  outcome: "won" | "not_a_fit";
  reason: string | null;
  by: string;
  source: string;
  at: Date;
}

export function closureFrom(row: ClosureRow | undefined): Closure | null {
  if (!row || (row.state !== "won" && row.state !== "not_a_fit")) return null;
  return { outcome: row.state, reason: row.reason, by: row.byUser, source: row.source, at: row.at };
}

/**
 * Records won / lost / not a fit and sets whether the lead is closed. The lead row is locked, so
 * concurrent records of one lead serialise. With a time (`at`, from a CRM) an outcome is
 * idempotent per lead, outcome and time; without one (a button, a command) the latest outcome is
 * checked, so a double click or a retried request records one outcome.
 */
export async function recordOutcome(
  db: Db,
  p: OutcomeInput,
  now: number,
  admins: readonly string[] = [],
): Promise<OutcomeResult> {
  return db.transaction(async (tx) => {
    const leadId = typeof p.lead === "number" ? p.lead : await resolveLeadId(tx, p.lead);
    if (!(await lockLead(tx, { id: leadId })))
      throw new NotFoundError(`Lead ${leadId} no longer exists.`);
    const existing = p.at
      ? await hasOutcomeAt(tx, { leadId, outcome: p.outcome, at: p.at })
      : await latestOutcome(tx, { leadId });
    if (
      existing &&
      existing.outcome === p.outcome &&
      (p.at !== undefined || (p.reason ?? null) === (existing.reason ?? null))
    ) {
      return {
        leadId,
        recorded: false,
        outcome: existing.outcome,
        by: existing.byUser,
        at: existing.createdAt,
        reason: existing.reason,
      };
    }
    // API and CLI callers hold a token or the server; in Slack, a rep changes only their own record.
    if (
      existing &&
      existing.byUser !== p.by &&
      p.source.startsWith("slack-") &&
      !canApprove(await roleOf(tx, p.by, admins))
    ) {
      throw new ForbiddenError(
        `Lead ${leadId} is already marked ${existing.outcome.replace(/_/g, " ")} by someone else; only a manager or an admin can change that.`,
      );
    }
    const at = p.at ?? new Date(now);
    const score = await currentScore(tx, { leadId });
    const row = await insertOutcome(tx, {
      leadId,
      outcome: p.outcome,
      reason: p.reason ?? null,
      note: p.note ?? null,
      byUser: p.by,
      source: p.source,
      alertId: p.alertId ?? null,
      scoreAtOutcome: score?.total ?? null,
      modelVersion: score?.version ?? null,
      createdAt: at,
    });
    await setClosure(tx, {
      leadId,
      state: p.outcome,
      reason: p.reason ?? null,
      byUser: p.by,
      source: p.source,
      at,
    });
    await insertAudit(tx, {
      actor: p.by,
      action: `lead.${p.outcome}`,
      subject: `lead:${leadId}`,
      details: {
        reason: p.reason ?? null,
        source: p.source,
        alertId: p.alertId ?? null,
        at: at.toISOString(),
      },
    });
    return {
      leadId,
      recorded: true,
      outcome: row.outcome,
      by: row.byUser,
      at: row.createdAt,
      reason: row.reason,
    };
  });
}

export interface ReopenResult {
  leadId: number;
  /** False when the lead was not closed (or this reopen was already recorded). */
  reopened: boolean;
  /** The closure the reopen ended. */
  was: Closure | null;
}

/** Puts a closed lead (won or not a fit) back among those alerted on. */
export async function reopenLead(
  db: Db,
  p: { lead: string | number; by: string; source: OutcomeSource; at?: Date | undefined },
  now: number,
): Promise<ReopenResult> {
  return db.transaction(async (tx) => {
    const leadId = typeof p.lead === "number" ? p.lead : await resolveLeadId(tx, p.lead);
    if (!(await lockLead(tx, { id: leadId })))
      throw new NotFoundError(`Lead ${leadId} no longer exists.`);
    const was = closureFrom(await closureOf(tx, { leadId }));
    const at = p.at ?? new Date(now);
    // A reopen older than the closure it would end changes nothing: the closure is newer news.
    if (!was || at < was.at) return { leadId, reopened: false, was };
    await setClosure(tx, {
      leadId,
      state: "reopened",
      reason: null,
      byUser: p.by,
      source: p.source,
      at,
    });
    await insertAudit(tx, {
      actor: p.by,
      action: "lead.reopened",
      subject: `lead:${leadId}`,
      details: { source: p.source, was: was.outcome, at: at.toISOString() },
    });
    return { leadId, reopened: true, was };
  });
}

const outcomeText = z
  .string()
  .trim()
  .min(1)
  .max(MAX_OUTCOME_TEXT)
  .refine(storable, UNSTORABLE_MESSAGE);

/** One outcome as a CRM sends it (the API body's items and the CSV's rows). */
export const outcomeItemSchema = z.object({
  lead: z.union([
    z.number().int().positive(),
    z
      .string()
      .trim()
      .min(1, "say which lead: an email, id:N, ext:X or an externalId")
      .max(MAX_OUTCOME_TEXT),
  ]),
  outcome: z
    .string()
    .trim()
    .toLowerCase()
    .transform((s) => s.replace(/[\s-]+/g, "_"))
    .pipe(
      z.enum(["won", "lost", "not_a_fit", "reopen"], {
        message: "outcome must be won, lost, not_a_fit or reopen",
      }),
    ),
  reason: outcomeText.nullish(),
  note: outcomeText.nullish(),
  at: z
    .union([z.string().trim().min(1), z.number()])
    .transform((v, ctx) => {
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: "custom", message: "must be an ISO 8601 time or epoch milliseconds" });
        return z.NEVER;
      }
      if (d.getTime() < OLDEST_OUTCOME) {
        ctx.addIssue({
          code: "custom",
          message: "is before 2000-01-01; epoch values are milliseconds, not seconds",
        });
        return z.NEVER;
      }
      return d;
    })
    .nullish(),
});

export type OutcomeItem = z.output<typeof outcomeItemSchema>;

export interface OutcomeBatchResult {
  recorded: number;
  reopened: number;
  /** Items already on record (same lead, outcome and time), reported and not stored again. */
  duplicates: number;
  /** Reopens of leads that were not closed. */
  unchanged: number;
  items: {
    index: number;
    leadId: number;
    status: "recorded" | "reopened" | "duplicate" | "unchanged";
  }[];
  errors: ItemError[];
}

/**
 * Records a batch of outcomes from a CRM (the API, a CSV file). Each item is validated and stored
 * on its own, so one unknown lead does not hold back the rest; the time of each item (default:
 * now) is its outcome's time and makes re-sending it harmless.
 */
export async function recordOutcomes(
  db: Db,
  items: readonly unknown[],
  p: { by: string; source: OutcomeSource; now: number },
): Promise<OutcomeBatchResult> {
  const result: OutcomeBatchResult = {
    recorded: 0,
    reopened: 0,
    duplicates: 0,
    unchanged: 0,
    items: [],
    errors: [],
  };
  if (items.length > MAX_BATCH_ITEMS) {
    result.errors.push({
      index: -1,
      field: "(batch)",
      reason: `a batch holds at most ${MAX_BATCH_ITEMS} items, got ${items.length}; split it`,
    });
    return result;
  }
  // Items without a time share one "now", so a batch re-sent at once still has one time per item.
  const batchNow = new Date(p.now);
  for (const [index, raw] of items.entries()) {
    const parsed = outcomeItemSchema.safeParse(raw);
    if (!parsed.success) {
      result.errors.push(...itemErrors(index, parsed.error));
      continue;
    }
    const item = parsed.data;
    if (item.at && item.at.getTime() > p.now + FUTURE_SKEW_MS) {
      result.errors.push({ index, field: "at", reason: "is in the future" });
      continue;
    }
    const at = item.at ?? batchNow;
    try {
      if (item.outcome === "reopen") {
        const r = await reopenLead(db, { lead: item.lead, by: p.by, source: p.source, at }, p.now);
        result.items.push({
          index,
          leadId: r.leadId,
          status: r.reopened ? "reopened" : "unchanged",
        });
        if (r.reopened) result.reopened++;
        else result.unchanged++;
        continue;
      }
      const r = await recordOutcome(
        db,
        {
          lead: item.lead,
          outcome: item.outcome,
          by: p.by,
          source: p.source,
          reason: item.reason ?? undefined,
          note: item.note ?? undefined,
          at,
        },
        p.now,
      );
      result.items.push({ index, leadId: r.leadId, status: r.recorded ? "recorded" : "duplicate" });
      if (r.recorded) result.recorded++;
      else result.duplicates++;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      result.errors.push({ index, field: "lead", reason: err.message });
    }
  }
  return result;
}

import { z } from "zod";
import { DAY_MS } from "../core/engine.js";
import { GRADES, MODEL_KEY, STAGES } from "../core/model.js";
import { storable, UNSTORABLE_MESSAGE } from "../core/text.js";
import type { DbOrTx } from "../db/client.js";
import { type LeadSummary, searchLeads as searchLeadRows } from "../db/queries/leads.js";
import { LAST_USED_VIEW, upsertView, viewFilters, viewNames } from "../db/queries/views.js";
import { InvalidInputError, NotFoundError } from "./errors.js";
import { MAX_TOP } from "./leads.js";

/** Longest "last activity within N days" filter: ten years is "ever". */
const MAX_ACTIVE_DAYS = 3650;
export const OUTCOME_FILTERS = ["none", "won", "lost", "not_a_fit"] as const;
export type OutcomeFilter = (typeof OUTCOME_FILTERS)[number];

/**
 * What a person can filter leads on, the same from the modal, `GET /api/v1/leads` and `leadbot
 * top`. `owner` is a user id or "nobody"; adapters turn "me" into the asker's id.
 */
export const leadFiltersSchema = z
  .strictObject({
    q: z.string().trim().min(1).max(200).refine(storable, UNSTORABLE_MESSAGE).optional(),
    stage: z.enum(STAGES).optional(),
    grade: z.array(z.enum(GRADES)).min(1).max(GRADES.length).optional(),
    level: z.array(z.number().int().min(1).max(4)).min(1).max(4).optional(),
    owner: z.string().trim().min(1).max(200).refine(storable, UNSTORABLE_MESSAGE).optional(),
    minScore: z.number().finite().optional(),
    maxScore: z.number().finite().optional(),
    activeWithinDays: z.number().int().min(1).max(MAX_ACTIVE_DAYS).optional(),
    outcome: z.enum(OUTCOME_FILTERS).optional(),
    /** Only leads scored by this model (by key). */
    model: z
      .string()
      .regex(MODEL_KEY, "a model key: lowercase letters, digits, - and _")
      .optional(),
  })
  .refine((f) => f.minScore === undefined || f.maxScore === undefined || f.minScore <= f.maxScore, {
    message: "the lowest score must not exceed the highest",
    path: ["minScore"],
  });
export type LeadFilters = z.infer<typeof leadFiltersSchema>;

/** View names appear in `/lead top 10 view:<name>`: one word people can type. */
export const VIEW_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export interface SearchPage {
  limit: number;
  offset?: number | undefined;
}

/** Checks filters that came from outside; the sentence names the filter at fault. */
export function parseFilters(raw: unknown): LeadFilters {
  const parsed = leadFiltersSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new InvalidInputError(
    `The filter ${issue?.path.join(".") || "(all)"} is not valid: ${issue?.message ?? "unknown"}.`,
  );
}

/** Leads matching the filters, best score first: the one query behind every list of leads. */
export function searchLeads(
  db: DbOrTx,
  filters: LeadFilters,
  page: SearchPage,
  now: number,
): Promise<LeadSummary[]> {
  const q = filters.q ? `%${filters.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  return searchLeadRows(db, {
    pattern: q,
    stage: filters.stage,
    grades: filters.grade,
    levels: filters.level,
    owner: filters.owner === "nobody" ? null : filters.owner,
    minScore: filters.minScore,
    maxScore: filters.maxScore,
    activeSince:
      filters.activeWithinDays !== undefined
        ? new Date(now - filters.activeWithinDays * DAY_MS)
        : undefined,
    outcome: filters.outcome,
    modelKey: filters.model,
    limit: Math.min(Math.max(1, page.limit), MAX_TOP),
    offset: Math.max(0, page.offset ?? 0),
  });
}

/** Saves filters under a name for one person; the same name replaces them. */
export async function saveView(
  db: DbOrTx,
  p: { userId: string; name: string; filters: LeadFilters },
): Promise<void> {
  if (!VIEW_NAME.test(p.name)) {
    throw new InvalidInputError(
      `"${p.name}" cannot name a view: use lowercase letters, digits, - and _ (up to 40).`,
    );
  }
  await upsertView(db, { userId: p.userId, name: p.name, filters: p.filters });
}

export async function viewOf(db: DbOrTx, userId: string, name: string): Promise<LeadFilters> {
  const stored = await viewFilters(db, { userId, name });
  if (!stored || name === LAST_USED_VIEW) {
    const names = await viewNames(db, { userId });
    throw new NotFoundError(
      `You have no view named "${name}". ${names.length > 0 ? `Yours: ${names.join(", ")}.` : "Save one from the Find leads form (/lead find)."}`,
    );
  }
  return parseFilters(stored);
}

export function rememberFilters(db: DbOrTx, userId: string, filters: LeadFilters): Promise<void> {
  return upsertView(db, { userId, name: LAST_USED_VIEW, filters });
}

/** The filters a person used last (undefined before the first search, or when they no longer parse). */
export async function lastFilters(db: DbOrTx, userId: string): Promise<LeadFilters | undefined> {
  const stored = await viewFilters(db, { userId, name: LAST_USED_VIEW });
  const parsed = leadFiltersSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

export function listViews(db: DbOrTx, userId: string): Promise<string[]> {
  return viewNames(db, { userId });
}

import { z } from "zod";
import { parseJsonWith } from "../edge.js";

/**
 * Block Kit identifiers of the /lead answers and App Home, shared by the builders, the listeners
 * and the tests (the alert's own ids live in ../ids.ts).
 */

/** The menu beside a lead in a list; each option's value is `<choice>:<lead id>`. */
export const LEAD_MENU = "lead_menu";
export const LEAD_WHY = "why";
export const LEAD_SHOW = "show";
/** "Next page" under a long list; value is a `ListPage` as JSON. */
export const LIST_PAGE = "list_page";

export const LEAD_LIST_HEADER_BLOCK = "lead_list_header";
export const LEAD_LIST_MORE_BLOCK = "lead_list_more";
export const HOME_ACTIONS_BLOCK = "home_actions";
export const HOME_FOUND_BLOCK = "home_found";

const listPageSchema = z.object({
  q: z.enum(["top", "find", "search"]),
  /** How many leads the person asked for in all (top N). */
  limit: z.number().int().max(Number.MAX_SAFE_INTEGER),
  offset: z.number().int().max(Number.MAX_SAFE_INTEGER),
  stage: z.enum(["mql", "sql", "all"]).optional(),
  owner: z.string().optional(),
  text: z.string().optional(),
  /** Only leads scored by this model (by key). */
  model: z.string().max(32).optional(),
  /** The filters of a search (checked again by the service when the page is read). */
  filters: z.record(z.string(), z.unknown()).optional(),
  /** What the list is called (a view's name, or "Leads found"). */
  title: z.string().max(100).optional(),
});

/** What a "Next page" button carries: the query and where the next page starts. */
export type ListPage = z.infer<typeof listPageSchema>;

export function encodeListPage(p: ListPage): string {
  return JSON.stringify(p);
}

export function decodeListPage(value: string | undefined): ListPage | undefined {
  return parseJsonWith(listPageSchema, value);
}

/**
 * "Previous" and "Next" under the leads a Home-tab search found; value is a `HomeFoundPage` as
 * JSON: the search's filters and where the page starts.
 */
export const HOME_FOUND_NEXT = "home_found_next";
export const HOME_FOUND_PREVIOUS = "home_found_previous";
export const HOME_FOUND_PAGES_BLOCK = "home_found_pages";

const homeFoundPageSchema = z.object({
  /** The filters of the search (checked again by the service when the page is read). */
  filters: z.record(z.string(), z.unknown()),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  savedAs: z.string().max(100).optional(),
});

export type HomeFoundPage = z.infer<typeof homeFoundPageSchema>;

export function encodeHomeFoundPage(p: HomeFoundPage): string {
  return JSON.stringify(p);
}

export function decodeHomeFoundPage(value: string | undefined): HomeFoundPage | undefined {
  return parseJsonWith(homeFoundPageSchema, value);
}

/** The Find-leads modal (`/lead find` alone, or the Home button) and its inputs. */
export const FIND_MODAL = "find_modal";
export const FIND_OPEN = "find_open";
export const FIND_TEXT_BLOCK = "find_text";
export const FIND_STAGE_BLOCK = "find_stage";
export const FIND_GRADE_BLOCK = "find_grade";
export const FIND_LEVEL_BLOCK = "find_level";
export const FIND_OWNER_BLOCK = "find_owner";
export const FIND_OWNER_USER_BLOCK = "find_owner_user";
export const FIND_MIN_SCORE_BLOCK = "find_min_score";
export const FIND_MAX_SCORE_BLOCK = "find_max_score";
export const FIND_ACTIVE_BLOCK = "find_active";
export const FIND_OUTCOME_BLOCK = "find_outcome";
export const FIND_SAVE_BLOCK = "find_save";
/** Each input's one element has the action id `<block id>_input`. */
export const inputAction = (block: string): string => `${block}_input`;

/** The routing overview's "Edit rules" button and the modal it opens. */
export const ROUTING_EDIT = "routing_edit";
export const ROUTING_MODAL = "routing_modal";
export const ROUTING_RULES_BLOCK = "routing_rules";

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

const listPageSchema = z.object({
  q: z.enum(["top", "find"]),
  /** How many leads the person asked for in all (top N). */
  limit: z.number().int().max(Number.MAX_SAFE_INTEGER),
  offset: z.number().int().max(Number.MAX_SAFE_INTEGER),
  stage: z.enum(["mql", "sql", "all"]).optional(),
  owner: z.string().optional(),
  text: z.string().optional(),
  /** Only leads scored by this model (by key). */
  model: z.string().max(32).optional(),
});

/** What a "Next page" button carries: the query and where the next page starts. */
export type ListPage = z.infer<typeof listPageSchema>;

export function encodeListPage(p: ListPage): string {
  return JSON.stringify(p);
}

export function decodeListPage(value: string | undefined): ListPage | undefined {
  return parseJsonWith(listPageSchema, value);
}

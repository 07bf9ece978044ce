import { sql } from "drizzle-orm";

/** Leads are numbered; passing id lists as one JSON parameter works the same on both drivers. */
export function idArray(ids: readonly number[]) {
  return sql`array(select x::bigint from json_array_elements_text(${JSON.stringify(ids)}::json) x)`;
}

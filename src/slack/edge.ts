import type { z } from "zod";

/**
 * Reads a JSON string that came back from Slack (a button value, a modal's private_metadata)
 * through `schema`: undefined when it is not JSON or not one of ours, never a half-trusted object.
 */
export function parseJsonWith<T>(schema: z.ZodType<T>, raw: string | undefined): T | undefined {
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

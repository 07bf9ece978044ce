/** Loose readers of Web API parameters, which arrive as form strings or as JSON values. */

export type Params = Record<string, unknown>;

export function tryJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v === "" ? undefined : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

export function bool(v: unknown): boolean {
  return v === true || v === "true" || v === "1" || v === 1;
}

export function arr(v: unknown): unknown[] | undefined {
  const value = typeof v === "string" ? tryJson(v) : v;
  return Array.isArray(value) ? value : undefined;
}

export function obj(v: unknown): Params | undefined {
  const value = typeof v === "string" ? tryJson(v) : v;
  return value && typeof value === "object" && !Array.isArray(value)
    ? (value as Params)
    : undefined;
}

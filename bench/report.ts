import { readFileSync, writeFileSync } from "node:fs";

export interface Figure {
  name: string;
  /** What is measured, in a few words. */
  figure: string;
  value: string;
  baseline: string;
  /** value / baseline as the goal states it (or the measure itself for absolute goals). */
  ratio: number | undefined;
  goal: string;
  pass: boolean | undefined;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export const fmt = {
  ms: (ms: number) =>
    ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : ms >= 100
        ? `${Math.round(ms)} ms`
        : `${ms.toFixed(2)} ms`,
  rate: (n: number, ms: number) => `${Math.round(n / (ms / 1000)).toLocaleString("en-US")}/s`,
  mb: (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`,
  int: (n: number) => n.toLocaleString("en-US"),
};

function cells(f: Figure): string[] {
  return [
    f.figure,
    f.value,
    f.baseline,
    f.ratio === undefined ? "-" : f.ratio.toFixed(2),
    f.goal,
    f.pass === undefined ? "-" : f.pass ? "pass" : "FAIL",
  ];
}

const HEADER = ["figure", "value", "baseline", "ratio", "goal", "result"];

/** A plain-text table for the terminal. */
export function textTable(figures: readonly Figure[]): string {
  const rows = [HEADER, ...figures.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [
    line(HEADER),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...figures.map((f) => line(cells(f))),
  ].join("\n");
}

export function markdownTable(figures: readonly Figure[]): string {
  const row = (r: string[]) => `| ${r.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [row(HEADER), row(HEADER.map(() => "---")), ...figures.map((f) => row(cells(f)))].join(
    "\n",
  );
}

/**
 * Replaces the section between `<!-- results:<label> -->` and `<!-- /results:<label> -->` in the
 * file (appending it when absent), leaving the rest of the document as written.
 */
export function writeResults(path: string, label: string, body: string): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    text = "# Benchmarks\n";
  }
  const open = `<!-- results:${label} -->`;
  const close = `<!-- /results:${label} -->`;
  const section = `${open}\n${body.trim()}\n${close}`;
  const a = text.indexOf(open);
  const b = text.indexOf(close);
  const next =
    a >= 0 && b > a
      ? text.slice(0, a) + section + text.slice(b + close.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}

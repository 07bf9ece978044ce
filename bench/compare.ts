/**
 * `npm run bench -- --compare-pglite`: the same bench on the Postgres server and on PGlite, one
 * after the other in processes of their own, joined figure by figure: how many times slower the
 * embedded database is on each (the goal: within 2×).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Figure } from "./report.js";

/** The bench's arguments without the ones this mode sets itself. */
function passOn(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--compare-pglite" || a === "--pglite") continue;
    if (a === "--out" || a === "--json") {
      i++;
      continue;
    }
    if (a.startsWith("--out=") || a.startsWith("--json=")) continue;
    out.push(a);
  }
  return out;
}

function runOnce(args: string[], json: string): Promise<Figure[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        fileURLToPath(new URL("./run.ts", import.meta.url)),
        ...args,
        "--json",
        json,
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`bench ${args.join(" ")} exited with ${code}`));
      resolve(JSON.parse(readFileSync(json, "utf8")) as Figure[]);
    });
  });
}

/** A figure's value as a number and whether more is better (a rate) or worse (a time). */
function parse(value: string): { n: number; higherIsBetter: boolean; unit: string } | undefined {
  const m = /^([\d,.]+)\s*(\/s|ms|s|MB)\b/.exec(value);
  if (!m) return undefined;
  const n = Number((m[1] as string).replace(/,/g, ""));
  const unit = m[2] as string;
  return { n: unit === "s" ? n * 1000 : n, higherIsBetter: unit === "/s", unit };
}

export interface Comparison {
  figure: string;
  postgres: string;
  pglite: string;
  /** How many times slower PGlite is (PGlite time ÷ Postgres time, or the rates inverted). */
  slower: number | undefined;
  pass: boolean | undefined;
}

/** Side-by-side rows; a peak RSS is not compared (PGlite's includes the whole database). */
export function compare(pg: readonly Figure[], lite: readonly Figure[]): Comparison[] {
  const rows: Comparison[] = [];
  pg.forEach((f, i) => {
    const other = lite[i];
    if (!other || other.name !== f.name) return;
    const a = parse(f.value);
    const b = parse(other.value);
    const comparable = a && b && a.unit !== "MB" && a.n > 0 && b.n > 0;
    const slower = comparable ? (a.higherIsBetter ? a.n / b.n : b.n / a.n) : undefined;
    rows.push({
      figure: f.figure,
      postgres: f.value,
      pglite: other.value,
      slower,
      pass: slower === undefined ? undefined : slower <= 2,
    });
  });
  return rows;
}

export function comparisonTable(rows: readonly Comparison[], markdown: boolean): string {
  const header = ["figure", "Postgres", "PGlite", "PGlite slower by", "goal", "result"];
  const body = rows.map((r) => [
    r.figure,
    r.postgres,
    r.pglite,
    r.slower === undefined ? "-" : `${r.slower.toFixed(2)}x`,
    r.slower === undefined ? "(not comparable)" : "<= 2.00x",
    r.pass === undefined ? "-" : r.pass ? "pass" : "FAIL",
  ]);
  if (markdown) {
    const row = (c: string[]) => `| ${c.map((x) => x.replace(/\|/g, "\\|")).join(" | ")} |`;
    return [row(header), row(header.map(() => "---")), ...body.map(row)].join("\n");
  }
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** Runs both and returns the joined rows. */
export async function comparePglite(argv: readonly string[]): Promise<Comparison[]> {
  const dir = mkdtempSync(join(tmpdir(), "leadbot-bench-compare-"));
  try {
    const args = passOn(argv);
    const pg = await runOnce(args, join(dir, "postgres.json"));
    const lite = await runOnce([...args, "--pglite"], join(dir, "pglite.json"));
    return compare(pg, lite);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

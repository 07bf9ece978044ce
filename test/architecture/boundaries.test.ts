import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface SourceFile {
  /** Repository-relative, with forward slashes: `src/slack/app.ts`. */
  path: string;
  text: string;
}

/** Packages the pure core may use; anything else (node built-ins included) keeps it impure. */
const CORE_PACKAGES = new Set(["zod", "yaml"]);
/** The layers that adapt the outside world and must reach the store through services only. */
const ADAPTERS = ["src/slack/", "src/http/", "src/cli/", "src/jobs/"];

/** Every module specifier a file names: static imports, re-exports and dynamic imports. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bimport\s+(?:type\s+)?[\w*{}\s,$]*?\s*from\s*["']([^"']+)["']/g,
    /\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) if (m[1]) found.push(m[1]);
  return found;
}

/** Where a specifier points: a repository path for relative ones, else the bare package name. */
function target(file: string, spec: string): { path?: string; pkg?: string } {
  if (spec.startsWith(".")) return { path: posix.normalize(posix.join(posix.dirname(file), spec)) };
  return { pkg: spec };
}

/** The imports that break the layering, each as `file -> import`. */
function boundaryViolations(files: readonly SourceFile[]): string[] {
  const violations: string[] = [];
  for (const f of files) {
    for (const spec of importsOf(f.text)) {
      const t = target(f.path, spec);
      const line = `${f.path} -> ${spec}`;
      const inside = (dir: string) => t.path?.startsWith(dir) === true;
      let bad = false;
      if (f.path.startsWith("src/core/"))
        bad = t.pkg ? !CORE_PACKAGES.has(t.pkg) : !inside("src/core/");
      else if (ADAPTERS.some((a) => f.path.startsWith(a))) bad = inside("src/db/");
      else if (f.path.startsWith("src/services/")) bad = inside("src/slack/");
      if (bad) violations.push(line);
    }
  }
  return violations;
}

/**
 * Modules that weigh on every process that imports them (measured with process.memoryUsage):
 * PGlite about 50 MB, ECharts with resvg and the fonts about 80 MB, the date-fns index about
 * 30 MB. They are loaded where they are used (a dynamic import, or one function's own module),
 * so an instance on Postgres that never draws a chart carries none of them.
 */
function heavyImports(files: readonly SourceFile[]): string[] {
  const heavy = (file: string, spec: string) =>
    spec === "@electric-sql/pglite" ||
    spec.startsWith("drizzle-orm/pglite") ||
    spec === "date-fns" ||
    (!file.startsWith("src/charts/") &&
      target(file, spec).path?.startsWith("src/charts/") === true &&
      !spec.endsWith("/lazy.js"));
  const found: string[] = [];
  // Static imports that bring values (type-only imports are erased).
  const staticImport = /\bimport\s+(?!type\b)[\w*{}\s,$]*?\s*from\s*["']([^"']+)["']/g;
  for (const f of files)
    for (const m of f.text.matchAll(staticImport))
      if (m[1] && heavy(f.path, m[1])) found.push(`${f.path} -> ${m[1]}`);
  return found;
}

function sourceFiles(dir: string): SourceFile[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs|js)$/.test(e.name))
    .map((e) => {
      const full = join(e.parentPath, e.name);
      return { path: relative(ROOT, full).split("\\").join("/"), text: readFileSync(full, "utf8") };
    });
}

describe("the import boundaries of src", () => {
  it("when every file under src is read, then no layer imports what it must not", () => {
    const files = sourceFiles(join(ROOT, "src"));
    expect(files.length).toBeGreaterThan(50);
    expect(boundaryViolations(files)).toEqual([]);
  });

  it("when a file breaks each rule, then the checker names every one as file -> import", () => {
    const files: SourceFile[] = [
      {
        path: "src/core/engine.ts",
        text: 'import { readFileSync } from "node:fs";\nimport { z } from "zod";',
      },
      {
        path: "src/core/model.ts",
        text: 'import type { Db } from "../db/client.js";\nimport { x } from "./diff.js";',
      },
      { path: "src/slack/listeners/a.ts", text: 'export { leads } from "../../db/schema.js";' },
      { path: "src/http/api.ts", text: 'const m = await import("../db/queries/leads.js");' },
      { path: "src/cli/index.ts", text: 'import {\n  openDatabase,\n} from "../db/client.js";' },
      {
        path: "src/jobs/scheduler.ts",
        text: 'import "../db/client.js";\nimport type { Services } from "../services/index.js";',
      },
      {
        path: "src/services/leads.ts",
        text: 'import { mention } from "../slack/blocks/common.js";\nimport { sql } from "drizzle-orm";',
      },
    ];
    expect(boundaryViolations(files)).toEqual([
      "src/core/engine.ts -> node:fs",
      "src/core/model.ts -> ../db/client.js",
      "src/slack/listeners/a.ts -> ../../db/schema.js",
      "src/http/api.ts -> ../db/queries/leads.js",
      "src/cli/index.ts -> ../db/client.js",
      "src/jobs/scheduler.ts -> ../db/client.js",
      "src/services/leads.ts -> ../slack/blocks/common.js",
    ]);
  });

  it("when every file under src is read, then heavy modules are loaded only where they are used", () => {
    expect(heavyImports(sourceFiles(join(ROOT, "src")))).toEqual([]);
  });

  it("when files import heavy modules up front, then the checker names each, and leaves type-only and lazy imports alone", () => {
    const files: SourceFile[] = [
      { path: "src/db/client.ts", text: 'import { PGlite } from "@electric-sql/pglite";' },
      { path: "src/db/other.ts", text: 'import { drizzle } from "drizzle-orm/pglite";' },
      { path: "src/services/routing.ts", text: 'import { startOfISOWeek } from "date-fns";' },
      {
        path: "src/slack/pictures.ts",
        text: 'import {\n  renderSparkline,\n} from "../charts/index.js";',
      },
      {
        path: "src/db/notifications.ts",
        text: [
          'import type { PGlite } from "@electric-sql/pglite";',
          'import type { Histogram } from "../charts/index.js";',
          'import { charts } from "../charts/lazy.js";',
          'import { startOfISOWeek } from "date-fns/startOfISOWeek";',
          'const { PGlite: P } = await import("@electric-sql/pglite");',
        ].join("\n"),
      },
      { path: "src/charts/index.ts", text: 'import { x } from "./render.js";' },
    ];
    expect(heavyImports(files)).toEqual([
      "src/db/client.ts -> @electric-sql/pglite",
      "src/db/other.ts -> drizzle-orm/pglite",
      "src/services/routing.ts -> date-fns",
      "src/slack/pictures.ts -> ../charts/index.js",
    ]);
  });
});

import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelFileError, parseModelText } from "../../src/core/model-file.js";
import { execRows } from "../../src/db/client.js";
import { CsvFormatError, importCsv } from "../../src/ingest/csv/index.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { ensureModel } from "../../src/services/models.js";
import { parseCommand, SUBCOMMANDS } from "../../src/slack/commands/parse.js";
import { type TestDatabase, testDatabases, withDatabase } from "../support/db.js";

/**
 * Properties over inputs people type or upload: `/lead` text, model files and CSV rows. Each
 * input ends in a result or a clear error of the documented kind, never another exception, and
 * a CSV import writes exactly what it reports.
 */

/** Words and characters that reach the odd corners of each parser. */
const commandToken = fc.oneof(
  fc.constantFrom(...SUBCOMMANDS, "mine", "me", "all", "mql", "sql", "no_budget", "other"),
  fc.constantFrom("<@U0ABC123|sam>", "<@U0ABC123>", "<#C123|x>", "<!here>", "&lt;", "&amp;"),
  fc.constantFrom("0", "-1", "1e309", "9".repeat(30), "NaN", "50", "1.5", "id:", "ext:"),
  fc.constantFrom("jane@acme.com", "a@b", "@", "\u0000", "\u202e", "😀", "  ", "\t", "\n"),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
);
const commandText = fc.array(commandToken, { maxLength: 8 }).map((t) => t.join(" "));

describe("/lead text at the parser", () => {
  it("when any text is typed, then the parser returns a command, help or an error with a sentence", () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const r = parseCommand(text);
        expect(typeof r.kind).toBe("string");
        if (r.kind === "error") {
          expect(r.message.trim().length).toBeGreaterThan(0);
        } else {
          // `find` without text is the Find-leads form.
          const kind = r.kind === "findForm" ? "find" : r.kind;
          expect(kind === "help" || (SUBCOMMANDS as readonly string[]).includes(kind)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

const yamlScalar = fc.oneof(
  fc.integer({ min: -1_000, max: 1_000 }).map(String),
  fc.constantFrom("true", "null", "~", "-", "[]", "{}", "'x'", '"y"', "*a", "&a x", "!!binary x"),
  fc.constantFrom(".inf", "-.inf", ".nan", "1e999", "0x10", "2026-01-01"),
  fc.string({ maxLength: 10 }),
);
const modelKey = fc.constantFrom(
  "version",
  "thresholds",
  "mql",
  "sql",
  "hysteresis",
  "fit",
  "engagement",
  "rules",
  "id",
  "label",
  "points",
  "when",
  "field",
  "equals",
  "decay",
  "halfLifeDays",
  "cap",
  "event",
  "grades",
  "x",
);
/** YAML-ish text: nested keys, lists, scalars and stray syntax, indented by chance. */
const modelText = fc
  .array(
    fc.tuple(fc.nat({ max: 6 }), fc.boolean(), modelKey, fc.option(yamlScalar, { nil: undefined })),
    { maxLength: 25 },
  )
  .map((lines) =>
    lines
      .map(
        ([indent, item, key, value]) =>
          `${" ".repeat(indent)}${item ? "- " : ""}${key}:${value === undefined ? "" : ` ${value}`}`,
      )
      .join("\n"),
  );

describe("model files at the parser", () => {
  it("when any model text is read, then it is a model or a ModelFileError naming lines and fields", () => {
    fc.assert(
      fc.property(fc.oneof(modelText, fc.string({ maxLength: 200 })), (text) => {
        let outcome: "model" | "error";
        try {
          const model = parseModelText(text, "fuzz.yaml");
          expect(model.thresholds).toBeDefined();
          outcome = "model";
        } catch (err) {
          expect(err).toBeInstanceOf(ModelFileError);
          const e = err as ModelFileError;
          expect(e.issues.length).toBeGreaterThan(0);
          expect(e.message).toContain("fuzz.yaml");
          outcome = "error";
        }
        expect(["model", "error"]).toContain(outcome);
      }),
      { numRuns: 400 },
    );
  });
});

const csvCell = fc.oneof(
  fc.constantFrom("", " ", '"', '""', ",", "\n", "\r\n", "a,b", 'x"y', "=cmd()", "\u0000", "😀"),
  fc.constantFrom("jane@acme.com", "bad@", "1000", "-5", "1e400", "abc", "{}", '{"a":1}', "US"),
  fc.emailAddress(),
  fc.string({ maxLength: 15 }),
);
const csvHeader = fc.constantFrom(
  "email",
  "Email Address",
  "first name",
  "company",
  "employees",
  "annualRevenue",
  "owner",
  "attributes",
  "externalId",
  "mystery",
  "",
  "email",
);
/** A CSV file: a header of known and unknown columns, rows of hostile cells, quoted by chance. */
const csvFile = fc
  .tuple(
    fc.array(csvHeader, { minLength: 1, maxLength: 6 }),
    fc.array(fc.array(fc.tuple(csvCell, fc.boolean()), { maxLength: 7 }), { maxLength: 12 }),
    fc.boolean(),
  )
  .map(([header, rows, crlf]) => {
    const quote = ([v, q]: [string, boolean]) => (q ? `"${v.replace(/"/g, '""')}"` : v);
    const nl = crlf ? "\r\n" : "\n";
    return [header.join(","), ...rows.map((r) => r.map(quote).join(","))].join(nl);
  });

describe.each(testDatabases())("CSV rows into the store on $name", (config) => {
  let tdb: TestDatabase;
  let services: Services;

  beforeAll(async () => {
    tdb = await withDatabase(config);
    await ensureModel(tdb.database.db);
    services = createServices({ database: tdb.database, logger: silentLogger });
  });

  afterAll(async () => {
    await tdb?.cleanup();
  });

  async function leadCount(): Promise<number> {
    const [row] = await execRows<{ n: number }>(
      tdb.database.db,
      sql`select count(*)::int as n from leads`,
    );
    return Number(row?.n ?? 0);
  }

  it("when any CSV is imported, then it reports every row and stores no more than it calls valid", async () => {
    await fc.assert(
      fc.asyncProperty(csvFile, async (text) => {
        const before = await leadCount();
        let stored = 0;
        try {
          const r = await importCsv({
            // A string is a path: the bytes go in as a stream, the way an upload arrives.
            input: Readable.from([Buffer.from(text, "utf8")]),
            kind: "leads",
            sink: async ({ items }) => {
              const res = await services.upsertLeads(items, "import");
              stored += res.leads.length;
              return { errors: res.errors };
            },
          });
          const added = (await leadCount()) - before;
          expect(r.valid + r.invalid).toBe(r.rows);
          expect(stored).toBe(r.valid);
          // Upserts may update a lead already there, so the table grows by at most what was valid.
          expect(added).toBeLessThanOrEqual(r.valid);
          expect(added).toBeGreaterThanOrEqual(0);
          for (const e of r.errors) {
            expect(e.line).toBeGreaterThanOrEqual(2);
            expect(e.reason.trim().length).toBeGreaterThan(0);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(CsvFormatError);
          expect((err as Error).message.trim().length).toBeGreaterThan(0);
          // A file refused as a whole leaves the store as it was.
          expect(await leadCount()).toBe(before);
        }
      }),
      { numRuns: 80 },
    );
  }, 120_000);
});

import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/core/learn/folds.js";
import { execRows } from "../../src/db/client.js";
import { attributeValue } from "../../src/ingest/csv/columns.js";
import { type CsvBatch, type CsvImportOptions, importCsv } from "../../src/ingest/csv/index.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

/** A CRM's lead export, as HubSpot or Salesforce write it: their headings, their number formats. */
const EXPORT = fileURLToPath(new URL("../fixtures/csv/crm-export-leads.csv", import.meta.url));
const NOW = Date.parse("2026-11-20T12:00:00Z");

async function readItems(input: CsvImportOptions["input"]): Promise<Record<string, unknown>[]> {
  const batches: CsvBatch[] = [];
  const result = await importCsv({
    input,
    kind: "leads",
    sink: async (b) => {
      batches.push(b);
      return { errors: [] };
    },
  });
  expect(result.invalid).toBe(0);
  return batches.flatMap((b) => b.items as Record<string, unknown>[]);
}

describe("a CRM export's unknown columns as lead attributes", () => {
  it("when a cell is written as a number, then the attribute is a number; ids, codes and text stay text", () => {
    expect(attributeValue("12")).toBe(12);
    expect(attributeValue("0")).toBe(0);
    expect(attributeValue("-3")).toBe(-3);
    expect(attributeValue("12.5")).toBe(12.5);
    expect(attributeValue("3.0")).toBe(3);
    expect(attributeValue("1,234")).toBe(1234);
    expect(attributeValue("1,234,567.25")).toBe(1234567.25);
    for (const text of [
      "02134", // a zip code
      "007",
      "+1 415 555 0100",
      "1 234",
      "12,5", // a decimal comma is not a thousands separator
      "1,23",
      "12.",
      ".5",
      "1e5",
      "12%",
      "$1,200",
      "2026-03-04",
      "12345678901234567", // past what a double holds exactly: an id
      "true",
      "Hot",
    ]) {
      expect(attributeValue(text)).toBe(text);
    }
  });

  it("when a HubSpot-style export is read, then known headings fill lead fields and the rest become typed attributes", async () => {
    const items = await readItems(EXPORT);
    expect(items).toHaveLength(6);
    const [jane, omar, lucia, kenji, , piet] = items;
    expect(jane).toMatchObject({
      email: "jane.doe@acme.example",
      title: "VP of Sales",
      company: "Acme, Inc.",
      industry: "Computer Software",
      country: "United States",
      source: "Organic Search",
    });
    expect(jane?.attributes).toEqual({
      record_id: 1001,
      postal_code: "02134",
      phone_number: "+1 415 555 0100",
      lifecycle_stage: "Marketing Qualified Lead",
      lead_status: "Open",
      page_views: 12,
      number_of_sessions: 4,
      average_pageviews: 3,
      marketing_emails_opened: 7,
      create_date: "2026-03-04 10:15",
      rating: "Hot",
      do_not_call: "false",
    });
    // Thousands separators and decimals; an empty cell is no attribute at all.
    expect(omar?.attributes).toMatchObject({
      page_views: 1234,
      average_pageviews: 30.85,
      marketing_emails_opened: 0,
      days_to_close: 14,
      do_not_call: "true",
    });
    expect(omar?.attributes).not.toHaveProperty("phone_number");
    expect(lucia?.attributes).toMatchObject({ postal_code: "00184", page_views: 0 });
    expect(lucia?.attributes).not.toHaveProperty("marketing_emails_opened");
    expect(lucia?.attributes).not.toHaveProperty("lead_status");
    expect(kenji?.attributes).toMatchObject({ postal_code: "100-0001", days_to_close: -3 });
    expect(piet?.attributes).toEqual({
      record_id: 1006,
      postal_code: "1012 AB",
      lifecycle_stage: "Lead",
      lead_status: "Unqualified",
      create_date: "2026-05-30 16:20",
    });
  });
});

/** A wider export like the fixture: page views drive conversion, the other columns do not. */
function syntheticExport(seed: number, rows: number) {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const industries = [
    "Computer Software",
    "Financial Services",
    "Retail",
    "Hospital & Health Care",
  ];
  const ratings = ["Hot", "Warm", "Cold"];
  const leads = ["Email,Job Title,Industry,Postal Code,Page Views,Rating,Lead Status"];
  const outcomes = ["Email,Outcome,Close Date"];
  let grouped = 0;
  for (let i = 0; i < rows; i++) {
    const email = `buyer${i}@company${i}.example`;
    // Spread over four orders of magnitude; the larger ones are written with thousands commas.
    const views = Math.floor(Math.exp(rand() * 8.5));
    const cell = views >= 1000 ? `"${views.toLocaleString("en-US")}"` : String(views);
    if (views >= 1000) grouped++;
    const zip = String(Math.floor(rand() * 99_999)).padStart(5, "0");
    leads.push(
      `${email},${pick(["Analyst", "Manager", "Director"])},"${pick(industries)}",${zip},${cell},${pick(ratings)},${pick(["New", "Open", "Connected"])}`,
    );
    const chance = views >= 300 ? 0.6 : 0.07;
    const day = 1 + Math.floor(rand() * 27);
    outcomes.push(
      `${email},${rand() < chance ? "won" : "lost"},2026-10-${String(day).padStart(2, "0")}`,
    );
  }
  return { leads: `${leads.join("\n")}\n`, outcomes: `${outcomes.join("\n")}\n`, grouped };
}

for (const config of testDatabases()) {
  describe(`importing a CRM export and learning from it on ${config.name}`, () => {
    const t = suiteDatabase(config);
    let services: Services;

    beforeAll(async () => {
      services = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => NOW,
      });
    });

    const importLeads = (input: CsvImportOptions["input"]) =>
      importCsv({
        input,
        kind: "leads",
        sink: ({ items }) => services.upsertLeads(items, "import"),
      });

    it("when the export is imported, then every row is stored and numbers are stored as JSON numbers", async () => {
      const result = await importLeads(EXPORT);
      expect(result).toMatchObject({ rows: 6, valid: 6, invalid: 0 });
      const rows = await execRows<{ email: string; views: string | null; zip: string | null }>(
        t.db,
        sql`select email, jsonb_typeof(attributes->'page_views') as views,
                   jsonb_typeof(attributes->'postal_code') as zip
            from leads order by email`,
      );
      expect(rows.find((r) => r.email === "omar@globex.example")).toEqual({
        email: "omar@globex.example",
        views: "number",
        zip: "string",
      });
      expect(rows.filter((r) => r.views === "number")).toHaveLength(5);
      const [omar] = await execRows<{ views: number; revenue: number; employees: number }>(
        t.db,
        sql`select (attributes->>'page_views')::int as views, annual_revenue as revenue, employees
            from leads where email = 'omar@globex.example'`,
      );
      expect(omar).toEqual({ views: 1234, revenue: 9500000.5, employees: 300 });
    });

    it("when outcomes follow page views, then the learned suggestion keeps a quantile-range rule on the numeric attribute", async () => {
      const data = syntheticExport(17, 400);
      // Without typing, these "1,234" cells would make page views a text column.
      expect(data.grouped).toBeGreaterThan(40);
      expect((await importLeads(Readable.from([data.leads]))).invalid).toBe(0);
      const outcomes = await importCsv({
        input: Readable.from([data.outcomes]),
        kind: "outcomes",
        sink: ({ items }) => services.leads.recordOutcomes(items, { by: "crm", source: "api" }),
      });
      expect(outcomes).toMatchObject({ rows: 400, invalid: 0 });

      const made = await services.suggestions.suggest({ by: "U0MANAGER1", dryRun: true });
      if (!made.ok) throw new Error(made.message);
      const views = made.learned.evidence.filter((e) => e.ruleId.startsWith("page_views_"));
      expect(views.length).toBeGreaterThan(0);
      // A range of the number ("page_views 300–1,999", "... or more", "... below ..."), not a category.
      for (const rule of views)
        expect(rule.label).toMatch(/^page_views (below |[\d,.]+(–| or more))/);
      expect(views.some((rule) => rule.points > 0)).toBe(true);
      expect(made.learned.backtest.suggested.auc).toBeGreaterThan(0.7);
    }, 180_000);
  });
}

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parse } from "csv-parse/sync";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRows } from "../../src/db/client.js";
import {
  type CsvBatch,
  CsvFormatError,
  type CsvImportOptions,
  type CsvProgress,
  importCsv,
  writeErrorReport,
} from "../../src/ingest/csv/index.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices, type Services } from "../../src/services/index.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

const NOW = Date.parse("2026-11-20T12:00:00Z");
const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/csv/${name}`, import.meta.url));

/** The bytes of `text`, delivered in chunks of `size` bytes (splitting UTF-8 characters too). */
function bytes(text: string, size = Number.POSITIVE_INFINITY): Readable {
  const all = Buffer.from(text, "utf8");
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += Math.min(size, all.length)) {
    chunks.push(all.subarray(i, i + Math.min(size, all.length)));
  }
  return Readable.from(chunks);
}

/** A sink that keeps what it is given and accepts everything. */
function collector() {
  const batches: CsvBatch[] = [];
  return {
    batches,
    items: () => batches.flatMap((b) => b.items),
    sink: async (b: CsvBatch) => {
      batches.push(b);
      return { errors: [] };
    },
  };
}

async function importText(
  text: string,
  kind: CsvImportOptions["kind"],
  extra: Partial<CsvImportOptions> = {},
) {
  const c = collector();
  const result = await importCsv({ input: bytes(text), kind, sink: c.sink, ...extra });
  return { result, items: c.items(), batches: c.batches };
}

describe("CSV import: reading and mapping", () => {
  it("when headers are spelled in different styles, then they map to the same lead fields", async () => {
    for (const header of ["first_name", "First Name", "firstName", "FIRST-NAME"]) {
      const { items } = await importText(`Email,${header}\njane@acme.com,Jane\n`, "leads");
      expect(items).toEqual([{ email: "jane@acme.com", firstName: "Jane" }]);
    }
    const { items } = await importText(
      "E-mail Address,External ID,Job Title,Company Name,Number of Employees,Annual Revenue,Lead Source,Owner\n" +
        "jane@acme.com,crm-1,VP Sales,Acme,250,1000000,webinar,U0123ABC\n",
      "leads",
    );
    expect(items).toEqual([
      {
        email: "jane@acme.com",
        externalId: "crm-1",
        title: "VP Sales",
        company: "Acme",
        employees: "250",
        annualRevenue: "1000000",
        source: "webinar",
        owner: "U0123ABC",
      },
    ]);
  });

  it("when a lead column is unknown, then it goes to attributes under a key a model can name", async () => {
    const { items } = await importText(
      'email,Lead Status,planTier,attributes.Region,attributes\njane@acme.com,Open,pro,EMEA,"{""score"": 3}"\n',
      "leads",
    );
    expect(items).toEqual([
      {
        email: "jane@acme.com",
        attributes: { lead_status: "Open", plan_tier: "pro", Region: "EMEA", score: 3 },
      },
    ]);
  });

  it("when event columns are given, then occurred_at, lead_id, url and properties.* map to the event", async () => {
    const { items } = await importText(
      "id,lead_id,Event Type,occurred_at,url,properties.campaign,properties\n" +
        'e1,12,Page View,2026-11-18T10:00:00Z,/pricing,spring,"{""ref"":""ad""}"\n',
      "events",
    );
    expect(items).toEqual([
      {
        id: "e1",
        leadId: "12",
        type: "Page View",
        occurredAt: "2026-11-18T10:00:00Z",
        properties: { url: "/pricing", campaign: "spring", ref: "ad" },
      },
    ]);
  });

  it("when an event row has no id, then its id comes from its content, the same on every import", async () => {
    const text = "email,type,occurred_at\njane@acme.com,email_open,2026-11-18T10:00:00Z\n";
    const a = await importText(text, "events");
    const b = await importText(text, "events");
    expect(a.items[0]?.id).toMatch(/^csv-[0-9a-f]{32}$/);
    expect(b.items[0]?.id).toBe(a.items[0]?.id);
  });

  it("when a cell is empty, then the field is left out (an import never blanks stored data)", async () => {
    const { items } = await importText("email,title,company\njane@acme.com,,Acme\n", "leads");
    expect(items).toEqual([{ email: "jane@acme.com", company: "Acme" }]);
  });

  it("when numbers carry thousands separators, then they are plain numbers", async () => {
    const { items } = await importText(
      'email,employees,annual_revenue\njane@acme.com,"1,200","25,000,000.50"\n',
      "leads",
    );
    expect(items).toEqual([
      { email: "jane@acme.com", employees: "1200", annualRevenue: "25000000.50" },
    ]);
  });

  it("when fields are quoted with commas, doubled quotes and line breaks, with a BOM and CRLF, then they read right", async () => {
    const c = collector();
    const result = await importCsv({
      input: fixture("leads-headers.csv"),
      kind: "leads",
      sink: c.sink,
    });
    expect(result).toMatchObject({ rows: 3, valid: 3, invalid: 0, errors: [] });
    expect(c.items()).toEqual([
      {
        email: "jane@acme.com",
        firstName: "Jane",
        lastName: "Doe",
        title: "VP of Sales",
        company: "Acme, Inc.",
        employees: "1200",
        annualRevenue: "25000000",
        country: "US",
        attributes: { lead_status: "Open", Plan: "pro" },
      },
      {
        email: "omar@globex.example",
        firstName: "Omar",
        lastName: "Haddad",
        title: 'Director of "Growth"',
        company: "Globex",
        employees: "300",
        country: "GB",
        attributes: { lead_status: "Working" },
      },
      {
        email: "lucia@initech.example",
        firstName: "Lucia",
        lastName: "Rossi",
        title: "Head of Marketing\nEMEA",
        company: "Initech",
        employees: "80",
        annualRevenue: "9000000",
        country: "DE",
        attributes: { Plan: "team" },
      },
    ]);
  });

  it("when the file arrives a byte at a time, then the result is the same (UTF-8 split across chunks)", async () => {
    const text =
      'email,first_name,company,notes\nzoe@acme.com,Zoë,"Müller, ""Söhne""","two\nlines"\n\nli@acme.com,李,北京,—\n';
    const whole = await importText(text, "leads");
    const c = collector();
    const trickled = await importCsv({ input: bytes(text, 1), kind: "leads", sink: c.sink });
    expect(trickled).toEqual(whole.result);
    expect(c.items()).toEqual(whole.items);
    expect(c.items()[0]).toMatchObject({ firstName: "Zoë", company: 'Müller, "Söhne"' });
    expect(c.items()[1]).toMatchObject({ firstName: "李", company: "北京" });
  });

  it("when rows are batched, then each batch says which data row it starts at", async () => {
    const rows = Array.from({ length: 7 }, (_, i) => `l${i}@acme.com`).join("\n");
    const { batches } = await importText(`email\n${rows}\n`, "leads", { batchSize: 3 });
    expect(batches.map((b) => [b.firstRow, b.items.length])).toEqual([
      [1, 3],
      [4, 3],
      [7, 1],
    ]);
  });

  it("when blank lines and spreadsheet-empty rows appear, then they are skipped and line numbers stay true", async () => {
    const { result, items } = await importText(
      "email,employees\n\na@acme.com,1\n,\n\nnot-an-email,2\n",
      "leads",
      {
        sink: async ({ items: batch }) => ({
          errors: batch.flatMap((item, index) =>
            String(item.email).includes("@") ? [] : [{ index, field: "email", reason: "bad" }],
          ),
        }),
      },
    );
    expect(items).toEqual([]);
    expect(result).toMatchObject({ rows: 2, valid: 1, invalid: 1 });
    expect(result.errors).toEqual([expect.objectContaining({ line: 6, field: "email" })]);
  });

  it("when lines are malformed, then each is reported at its line and every good row still goes through", async () => {
    const c = collector();
    const result = await importCsv({
      input: fixture("leads-malformed.csv"),
      kind: "leads",
      sink: c.sink,
    });
    expect(c.items().map((i) => i.email)).toEqual([
      "a@acme.example",
      "c@acme.example",
      "not-an-email",
      "g@acme.example",
      "h@acme.example",
    ]);
    expect(result.errors.map((e) => [e.line, e.field])).toEqual([
      [3, "(row)"],
      [5, "(row)"],
      [6, "(row)"],
      [11, "(row)"],
    ]);
    expect(result.errors[0]?.reason).toMatch(
      /quote that opens column 2 \(first_name\) is never closed/,
    );
    expect(result.errors[1]?.reason).toBe("has 5 columns, the header has 4");
    expect(result.errors[2]?.reason).toMatch(
      /text follows the closing quote of column 3 \(company\)/,
    );
    expect(result.errors[3]?.raw).toBe('i@acme.example,Ivy,"never closed,90');
    expect(result).toMatchObject({ rows: 9, valid: 5, invalid: 4 });
  });

  it("when a quote never closes, then the long run of rows after it is still imported", async () => {
    const good = Array.from({ length: 250 }, (_, i) => `r${i}@acme.com,R${i}`).join("\n");
    const { result, items } = await importText(`email,name\nbad@acme.com,"Bad\n${good}\n`, "leads");
    expect(items).toHaveLength(250);
    expect(result.errors).toEqual([expect.objectContaining({ line: 2, field: "(row)" })]);
  });

  it("when the header is unusable, then the import stops before storing anything and says what to fix", async () => {
    const fails = async (text: string, kind: CsvImportOptions["kind"], message: RegExp) => {
      const c = collector();
      const run = importCsv({ input: bytes(text), kind, sink: c.sink });
      await expect(run).rejects.toBeInstanceOf(CsvFormatError);
      await expect(importCsv({ input: bytes(text), kind, sink: c.sink })).rejects.toThrow(message);
      expect(c.items()).toEqual([]);
    };
    await fails("first_name,company\nJane,Acme\n", "leads", /email or external_id column/);
    await fails("email,type\na@acme.com,page_view\n", "events", /occurred_at/);
    await fails(
      "type,occurred_at\npage_view,2026-01-01\n",
      "events",
      /email, lead_id or external_id/,
    );
    await fails(
      "email,E-mail\na@acme.com,b@acme.com\n",
      "leads",
      /"email" and "E-mail" both fill email/,
    );
    await fails("email,,name\na@acme.com,,A\n", "leads", /column 2 of the header row has no name/);
    await fails("email,properties.url\na@acme.com,/x\n", "leads", /attributes\.url/);
    await fails("", "leads", /empty/);
    await fails('email,"name\na@acme.com,A\n', "leads", /header row \(line 1\) cannot be read/);
  });

  it("when the batch size is beyond what the services accept, then it says the limit", async () => {
    await expect(importText("email\na@acme.com\n", "leads", { batchSize: 20_000 })).rejects.toThrow(
      /between 1 and 10000/,
    );
  });

  it("when progress is reported, then bytes and rows only grow and end at the file size", async () => {
    const seen: CsvProgress[] = [];
    const file = fixture("leads-malformed.csv");
    await importCsv({
      input: file,
      kind: "leads",
      batchSize: 2,
      sink: collector().sink,
      onProgress: (p) => seen.push(p),
    });
    expect(seen.length).toBeGreaterThan(2);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]?.bytes).toBeGreaterThanOrEqual(seen[i - 1]?.bytes ?? 0);
      expect(seen[i]?.rows).toBeGreaterThanOrEqual(seen[i - 1]?.rows ?? 0);
    }
    expect(seen.at(-1)).toEqual({ bytes: statSync(file).size, rows: 9 });
  });
});

describe("CSV import: error report", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "leadbot-csv-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("when errors are written, then the report is a CSV with line, field, reason and the raw row", async () => {
    const file = join(dir, "errors.csv");
    await writeErrorReport(
      [
        {
          line: 3,
          field: "(row)",
          reason: "has 5 columns, the header has 4",
          raw: 'a,"b, c",d\nmore',
        },
        { line: 7, field: "Email", reason: "must be an email address", raw: '=HYPERLINK("x")' },
        { line: 9, field: "employees", reason: "must not be negative" },
      ],
      file,
    );
    const rows = parse(readFileSync(file, "utf8"), { columns: true }) as Record<string, string>[];
    expect(rows).toEqual([
      {
        line: "3",
        field: "(row)",
        reason: "has 5 columns, the header has 4",
        raw: 'a,"b, c",d\nmore',
      },
      // A spreadsheet would run this as a formula; the report shows it as text.
      { line: "7", field: "Email", reason: "must be an email address", raw: '\'=HYPERLINK("x")' },
      { line: "9", field: "employees", reason: "must not be negative", raw: "" },
    ]);
  });

  it("when there are no errors, then the report holds the header only", async () => {
    const file = join(dir, "none.csv");
    await writeErrorReport([], file);
    expect(readFileSync(file, "utf8")).toBe("line,field,reason,raw\n");
  });
});

for (const config of testDatabases()) {
  describe(`CSV import through the ingest services on ${config.name}`, () => {
    let services: Services;
    const t = suiteDatabase(config);

    beforeAll(async () => {
      services = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => NOW,
      });
    });

    const leadSink: CsvImportOptions["sink"] = async ({ items }) =>
      services.upsertLeads(items, "import");
    const eventSink: CsvImportOptions["sink"] = async ({ items }) =>
      services.recordEvents(items, "import");
    const emails = async () =>
      (await execRows<{ email: string }>(t.db, sql`select email from leads order by email`)).map(
        (r) => r.email,
      );

    it("when a bad row sits among good ones, then the good ones are stored and the bad one is reported with its line", async () => {
      const result = await importCsv({
        input: fixture("leads-malformed.csv"),
        kind: "leads",
        batchSize: 2,
        sink: leadSink,
      });
      expect(await emails()).toEqual(["a@acme.example", "c@acme.example", "h@acme.example"]);
      expect(result).toMatchObject({ rows: 9, valid: 3, invalid: 6 });
      expect(result.errors.map((e) => [e.line, e.field])).toEqual([
        [3, "(row)"],
        [5, "(row)"],
        [6, "(row)"],
        [7, "email"],
        [8, "employees"],
        [11, "(row)"],
      ]);
      expect(result.errors[3]).toMatchObject({
        reason: "must be an email address such as jane@acme.com",
        raw: "not-an-email,Fay,Acme,60",
      });
      expect(result.errors[4]?.reason).toBe("employees must not be negative");
      const [h] = await execRows<{ company: string; employees: number }>(
        t.db,
        sql`select company, employees from leads where email = 'h@acme.example'`,
      );
      expect(h).toEqual({ company: "Multi\nline", employees: 80 });
    });

    it("when leads with mixed headers are imported, then they are stored and scored like API leads", async () => {
      const result = await importCsv({
        input: fixture("leads-headers.csv"),
        kind: "leads",
        sink: leadSink,
      });
      expect(result).toMatchObject({ rows: 3, valid: 3, invalid: 0 });
      const [jane] = await execRows<{
        employees: number;
        attributes: unknown;
        total: number;
        grade: string;
      }>(
        t.db,
        sql`select l.employees, l.attributes, s.total, s.grade from leads l join lead_scores s on s.lead_id = l.id
            where l.email = 'jane@acme.com'`,
      );
      expect(jane?.employees).toBe(1200);
      expect(jane?.attributes).toEqual({ lead_status: "Open", Plan: "pro" });
      expect(jane?.total).toBeGreaterThan(0);
    });

    it("when events are imported twice, then the bad rows name their column and nothing is stored twice", async () => {
      await importCsv({ input: fixture("leads-malformed.csv"), kind: "leads", sink: leadSink });
      const first = await importCsv({
        input: fixture("events.csv"),
        kind: "events",
        sink: eventSink,
      });
      expect(first).toMatchObject({ rows: 5, valid: 3, invalid: 2 });
      expect(first.errors.map((e) => [e.line, e.field])).toEqual([
        [5, "Occurred At"],
        [6, "Email"],
      ]);
      expect(first.errors[0]?.reason).toMatch(/ISO 8601/);
      const count = async () =>
        (await execRows<{ n: number }>(t.db, sql`select count(*)::int as n from events`))[0]?.n;
      expect(await count()).toBe(3);
      const [view] = await execRows<{ type: string; properties: unknown }>(
        t.db,
        sql`select type, properties from events where id = 'ev-1'`,
      );
      expect(view).toEqual({
        type: "page_view",
        properties: { url: "https://www.example.com/pricing", browser: "Firefox" },
      });

      const second = await importCsv({
        input: fixture("events.csv"),
        kind: "events",
        sink: eventSink,
      });
      expect(second).toMatchObject({ rows: 5, valid: 3, invalid: 2 });
      expect(await count()).toBe(3);
    });

    it("when events name leads by id, then a missing lead is reported on its line", async () => {
      await services.upsertLeads([{ email: "a@acme.example" }]);
      const [lead] = await execRows<{ id: number }>(t.db, sql`select id::int as id from leads`);
      const text =
        "lead_id,type,occurred_at,properties\n" +
        `${lead?.id},webinar_attend,2026-11-18T10:00:00Z,"{""webinar"": ""Scoring""}"\n` +
        "999999,webinar_attend,2026-11-18T10:00:00Z,\n" +
        `${lead?.id},page_view,2026-11-18T10:00:00Z,not json\n`;
      const result = await importCsv({ input: bytes(text), kind: "events", sink: eventSink });
      expect(result.errors.map((e) => [e.line, e.field, e.reason])).toEqual([
        [3, "lead_id", "no lead has id 999999"],
        [4, "properties", 'must be a JSON object such as {"plan":"pro"}'],
      ]);
      expect(result).toMatchObject({ rows: 3, valid: 1, invalid: 2 });
    });
  });
}

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { parse } from "csv-parse/sync";
import { DomainError } from "../services/errors.js";
import { MAX_BATCH_ITEMS } from "../services/ingest.js";
import { type ItemError, normaliseEventType } from "../services/inputs.js";

/**
 * Streaming CSV import. A small scanner frames records (it knows where quoted fields with line
 * breaks end) and recovers from broken lines; csv-parse decodes the fields of each batch. Each row
 * goes through the same input schemas as the API, via `sink`, and every rejected row comes back
 * with its line number, column and reason. A broken line costs that line only: an unclosed quote
 * does not swallow the rows after it.
 */

export type CsvKind = "leads" | "events";

export interface CsvRowError {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  /** The CSV column (as written in the header) or, for whole-row problems, "(row)". */
  field: string;
  reason: string;
  /** The row as it appears in the file, shortened to MAX_RAW_CHARS. */
  raw?: string;
}

export interface CsvProgress {
  /** Bytes of the input read so far. */
  bytes: number;
  /** Data rows handled so far. */
  rows: number;
}

export interface CsvBatch {
  items: Record<string, unknown>[];
  /** 1-based data-row number of items[0] (row 1 is the first line after the header). */
  firstRow: number;
}

export interface CsvImportOptions {
  /** A file path, or the bytes themselves (a Readable stream is an AsyncIterable). */
  input: string | AsyncIterable<Uint8Array | string>;
  kind: CsvKind;
  batchSize?: number;
  /** Stores a batch; errors carry indexes into `items`. */
  sink: (batch: CsvBatch) => Promise<{ errors: readonly ItemError[] }>;
  onProgress?: (progress: CsvProgress) => void;
}

export interface CsvImportResult {
  /** Data rows in the file (blank lines not counted). */
  rows: number;
  valid: number;
  invalid: number;
  errors: CsvRowError[];
  /** Errors beyond MAX_KEPT_ERRORS, counted but not kept. */
  errorsOmitted: number;
}

export const DEFAULT_BATCH_SIZE = 1000;
/** Errors kept for the report; a wholly wrong file must not exhaust memory. */
export const MAX_KEPT_ERRORS = 50_000;
/** Raw text kept per rejected row. */
const MAX_RAW_CHARS = 1_000;
/**
 * A quoted field may span lines, but a record this long is an unclosed quote, not data: no input
 * field is longer than a few hundred characters.
 */
const MAX_RECORD_CHARS = 64 * 1024;
const MAX_RECORD_LINES = 100;
/** A physical line longer than this means the input is not a line-oriented CSV file. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

export class CsvFormatError extends DomainError {
  constructor(message: string) {
    super("csv_invalid", message);
  }
}

// ---------------------------------------------------------------------------------------------
// Column mapping

/** Columns of the lead input, by their case- and separator-free spelling. */
const LEAD_COLUMNS: Record<string, string> = {
  email: "email",
  emailaddress: "email",
  externalid: "externalId",
  firstname: "firstName",
  lastname: "lastName",
  title: "title",
  jobtitle: "title",
  company: "company",
  companyname: "company",
  industry: "industry",
  employees: "employees",
  employeecount: "employees",
  numberofemployees: "employees",
  annualrevenue: "annualRevenue",
  revenue: "annualRevenue",
  country: "country",
  source: "source",
  leadsource: "source",
  owner: "owner",
  attributes: "attributes",
};

const EVENT_COLUMNS: Record<string, string> = {
  id: "id",
  eventid: "id",
  email: "email",
  leadid: "leadId",
  externalid: "externalId",
  type: "type",
  event: "type",
  eventtype: "type",
  occurredat: "occurredAt",
  timestamp: "occurredAt",
  properties: "properties",
};

const squash = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, "");

/** Where one column's value goes in the input item. */
type Target =
  | { to: "field"; name: string }
  | { to: "nested"; bag: "attributes" | "properties"; key: string }
  /** A JSON object merged into the bag. */
  | { to: "json"; bag: "attributes" | "properties" };

interface Column {
  header: string;
  target: Target;
}

function targetFor(kind: CsvKind, header: string): Target {
  const bag = kind === "leads" ? "attributes" : "properties";
  const dotted = /^(attributes|properties)\.(.+)$/i.exec(header);
  if (dotted?.[1] && dotted[2]) {
    if (dotted[1].toLowerCase() !== bag) {
      throw new CsvFormatError(
        `column "${header}": ${kind} rows have ${bag}, not ${dotted[1].toLowerCase()}; rename it ${bag}.${dotted[2]}`,
      );
    }
    return { to: "nested", bag, key: dotted[2].trim() };
  }
  const known = (kind === "leads" ? LEAD_COLUMNS : EVENT_COLUMNS)[squash(header)];
  if (known === bag) return { to: "json", bag };
  if (known) return { to: "field", name: known };
  // Anything else is kept, under a key a model rule can name (attributes.<key>).
  return { to: "nested", bag, key: normaliseEventType(header) };
}

function mapHeader(kind: CsvKind, headers: string[]): Column[] {
  const columns = headers.map((raw, i) => {
    const header = raw.trim();
    if (header === "") throw new CsvFormatError(`column ${i + 1} of the header row has no name`);
    return { header, target: targetFor(kind, header) };
  });
  const seen = new Map<string, string>();
  for (const c of columns) {
    const key =
      c.target.to === "field"
        ? c.target.name
        : c.target.to === "nested"
          ? `${c.target.bag}.${c.target.key}`
          : `${c.target.bag} (JSON)`;
    const other = seen.get(key);
    if (other) {
      throw new CsvFormatError(
        `columns "${other}" and "${c.header}" both fill ${key}; keep one of them`,
      );
    }
    seen.set(key, c.header);
  }
  const has = (name: string) => seen.has(name);
  if (kind === "leads" && !has("email") && !has("externalId")) {
    throw new CsvFormatError(
      `the header row needs an email or external_id column to identify leads (found: ${headers.join(", ")})`,
    );
  }
  if (kind === "events") {
    const missing = ["type", "occurredAt"].filter((n) => !has(n));
    if (missing.length > 0) {
      throw new CsvFormatError(
        `the header row needs ${missing.map((m) => (m === "type" ? "a type" : "an occurred_at")).join(" and ")} column for events (found: ${headers.join(", ")})`,
      );
    }
    if (!has("email") && !has("leadId") && !has("externalId")) {
      throw new CsvFormatError(
        `the header row needs an email, lead_id or external_id column to say whose events these are (found: ${headers.join(", ")})`,
      );
    }
  }
  return columns;
}

/** Numbers as spreadsheets write them: "1,200" and "1 200" are 1200. */
function plainNumber(v: string): string {
  return /^-?\d{1,3}([, ]\d{3})+(\.\d+)?$/.test(v) ? v.replace(/[, ]/g, "") : v;
}

const NUMERIC_FIELDS = new Set(["employees", "annualRevenue"]);

/** Builds the input item of one row; an empty cell leaves the field out (it does not clear it). */
function buildItem(
  kind: CsvKind,
  columns: Column[],
  cells: string[],
): { item: Record<string, unknown> } | { error: { field: string; reason: string } } {
  const item: Record<string, unknown> = {};
  const bagName = kind === "leads" ? "attributes" : "properties";
  const bag: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as Column;
    const value = (cells[i] ?? "").trim();
    if (value === "") continue;
    const t = column.target;
    if (t.to === "field") item[t.name] = NUMERIC_FIELDS.has(t.name) ? plainNumber(value) : value;
    else if (t.to === "nested") bag[t.key] = value;
    else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return {
          error: { field: column.header, reason: 'must be a JSON object such as {"plan":"pro"}' },
        };
      }
      Object.assign(bag, parsed);
    }
  }
  if (Object.keys(bag).length > 0 || kind === "events") item[bagName] = bag;
  // Rows without an id get one from their content, so importing a file twice stores it once.
  if (kind === "events" && item.id === undefined) {
    const digest = createHash("sha256").update(JSON.stringify(item)).digest("hex").slice(0, 32);
    item.id = `csv-${digest}`;
  }
  return { item };
}

/** Maps an error path from the input schema back to the column the user can fix. */
function columnOf(columns: Column[], field: string): string {
  for (const c of columns) {
    const t = c.target;
    if (t.to === "field" && (field === t.name || field.startsWith(`${t.name}.`))) return c.header;
    if (t.to === "nested" && field === `${t.bag}.${t.key}`) return c.header;
  }
  const json = columns.find((c) => c.target.to === "json");
  if (json && (field.startsWith("properties") || field.startsWith("attributes")))
    return json.header;
  return field;
}

// ---------------------------------------------------------------------------------------------
// Record framing

interface PhysicalLine {
  text: string;
  number: number;
}

interface Framed {
  /** The record's text, lines joined with "\n". */
  text: string;
  line: number;
  lines: PhysicalLine[];
  fields: number;
}

enum Q {
  FieldStart = 0,
  Unquoted = 1,
  Quoted = 2,
  /** A quote inside a quoted field: either the first of "" or the closing quote. */
  QuoteInQuoted = 3,
}

/** Scans one physical line, continuing the quoting state of the record so far. */
interface ScanState {
  q: Q;
  /** Fields seen so far, counting the current one. */
  fields: number;
  /** The field whose opening quote is the latest. */
  quotedField?: number;
  /** The first field whose closing quote is followed by text. */
  badClose?: number;
}

function scanLine(text: string, state: ScanState): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    switch (state.q) {
      case Q.FieldStart:
        // Blanks before an opening quote are allowed (csv-parse trims them too).
        if (c === 0x22) {
          state.q = Q.Quoted;
          state.quotedField = state.fields;
        } else if (c === 0x2c) state.fields++;
        else if (c !== 0x20 && c !== 0x09) state.q = Q.Unquoted;
        break;
      case Q.Unquoted:
        // A quote inside an unquoted field (5" screen) is taken literally, as spreadsheets do.
        if (c === 0x2c) {
          state.fields++;
          state.q = Q.FieldStart;
        }
        break;
      case Q.Quoted:
        if (c === 0x22) state.q = Q.QuoteInQuoted;
        break;
      case Q.QuoteInQuoted:
        if (c === 0x22) state.q = Q.Quoted;
        else if (c === 0x2c) {
          state.fields++;
          state.q = Q.FieldStart;
        } else if (c !== 0x20 && c !== 0x09) {
          state.badClose ??= state.fields;
          state.q = Q.Unquoted;
        }
        break;
    }
  }
}

/**
 * Frames records from physical lines. A record whose quoting breaks, whose column count is wrong
 * or that never closes its quote is reported at its first line; when it spans several lines, the
 * lines after the first are framed again, since they are most likely rows of their own.
 */
class Framer {
  private readonly replay: PhysicalLine[] = [];

  private header: string[] | undefined;

  /** Column counts are checked, and problems name columns, once the header is known. */
  setHeader(names: string[]) {
    this.header = names;
  }

  private columnName(field: number): string {
    const name = this.header?.[field - 1];
    return name ? `column ${field} (${name})` : `column ${field}`;
  }

  private problemOf(state: ScanState, complete: boolean, lines: number): string | undefined {
    const expected = this.header?.length;
    if (
      lines > 1 &&
      (!complete ||
        state.badClose !== undefined ||
        (expected !== undefined && state.fields !== expected))
    ) {
      // A quoted field ran over the line end and the result makes no sense: the quote is broken.
      return `the quote that opens ${this.columnName(state.quotedField ?? 1)} is never closed on this line; a quote inside a quoted field is written ""`;
    }
    if (!complete)
      return `the quote that opens ${this.columnName(state.quotedField ?? 1)} is never closed`;
    if (state.badClose !== undefined) {
      return `text follows the closing quote of ${this.columnName(state.badClose)}; a quote inside a quoted field is written ""`;
    }
    if (expected !== undefined && state.fields !== expected) {
      return `has ${state.fields} columns, the header has ${expected}`;
    }
    return undefined;
  }

  /** Frames what can be framed from `source`; `eof` says no more lines will come. */
  *frame(
    source: PhysicalLine[],
    eof: boolean,
  ): Generator<Framed | { skip: Framed; problem: string }> {
    const queue = this.replay.splice(0);
    queue.push(...source);
    let start = 0;
    while (start < queue.length) {
      const first = queue[start] as PhysicalLine;
      if (first.text.trim() === "") {
        start++;
        continue;
      }
      const state: ScanState = { q: Q.FieldStart, fields: 1 };
      let end = start;
      let chars = 0;
      let complete = false;
      let runaway = false;
      while (end < queue.length) {
        const line = queue[end] as PhysicalLine;
        scanLine(line.text, state);
        chars += line.text.length + 1;
        end++;
        if (state.q !== Q.Quoted) {
          complete = true;
          break;
        }
        if (chars > MAX_RECORD_CHARS || end - start >= MAX_RECORD_LINES) {
          runaway = true;
          break;
        }
      }
      if (!complete && !runaway && !eof) {
        // Wait for more lines: the open quote may close in the next chunk.
        this.replay.push(...queue.slice(start));
        return;
      }
      const lines = queue.slice(start, end);
      const record: Framed = {
        text: lines.map((l) => l.text).join("\n"),
        line: first.number,
        lines,
        fields: state.fields,
      };
      const problem = this.problemOf(state, complete, lines.length);
      if (problem === undefined) {
        yield record;
        start = end;
      } else if (lines.length > 1) {
        // Report the line that opened the quote; what follows is framed again on its own.
        yield { skip: { ...record, text: first.text, lines: [first] }, problem };
        start++;
      } else {
        yield { skip: record, problem };
        start = end;
      }
    }
  }
}

/** Splits decoded text into physical lines, keeping the unfinished tail for the next chunk. */
class LineSplitter {
  private tail = "";
  private lineNo = 0;

  push(chunk: string, eof: boolean): PhysicalLine[] {
    const text = this.tail + chunk;
    const parts = text.split("\n");
    this.tail = eof ? "" : (parts.pop() ?? "");
    if (this.tail.length > MAX_LINE_CHARS) {
      throw new CsvFormatError(
        `line ${this.lineNo + 1} is longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB; is this a CSV file?`,
      );
    }
    if (eof && parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
    return parts.map((p) => ({
      text: p.endsWith("\r") ? p.slice(0, -1) : p,
      number: ++this.lineNo,
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// Import

async function* chunksOf(input: CsvImportOptions["input"]): AsyncGenerator<Uint8Array | string> {
  if (typeof input === "string") {
    yield* createReadStream(input, { highWaterMark: 256 * 1024 });
  } else yield* input;
}

const decodeCells = (text: string): string[][] =>
  parse(text, { relax_column_count: true, relax_quotes: true, trim: true }) as string[][];

/** Imports a CSV file in batches through `sink`; see the module comment. */
export async function importCsv(opts: CsvImportOptions): Promise<CsvImportResult> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_ITEMS) {
    throw new CsvFormatError(
      `the batch size must be between 1 and ${MAX_BATCH_ITEMS}, got ${batchSize}`,
    );
  }
  const result: CsvImportResult = { rows: 0, valid: 0, invalid: 0, errors: [], errorsOmitted: 0 };
  const report = (e: CsvRowError) => {
    if (result.errors.length < MAX_KEPT_ERRORS) result.errors.push(e);
    else result.errorsOmitted++;
  };
  const rawOf = (text: string) =>
    text.length > MAX_RAW_CHARS ? `${text.slice(0, MAX_RAW_CHARS)}…` : text;

  const decoder = new StringDecoder("utf8");
  const splitter = new LineSplitter();
  const framer = new Framer();
  let columns: Column[] | undefined;
  let bytes = 0;
  let pending: { record: Framed; row: number }[] = [];

  const flush = async () => {
    if (pending.length === 0 || !columns) return;
    const cols = columns;
    const batch = pending;
    pending = [];
    let cells: string[][];
    try {
      cells = decodeCells(batch.map((b) => b.record.text).join("\n"));
      if (cells.length !== batch.length) throw new Error("record count differs");
    } catch {
      // The scanner and csv-parse disagree on some record: decode them one by one to find it.
      cells = batch.map((b) => {
        try {
          return decodeCells(b.record.text)[0] ?? [];
        } catch {
          return [];
        }
      });
    }
    const items: Record<string, unknown>[] = [];
    const sources: { record: Framed; row: number }[] = [];
    batch.forEach((b, i) => {
      const rowCells = cells[i] ?? [];
      if (rowCells.length !== cols.length) {
        result.invalid++;
        report({
          line: b.record.line,
          field: "(row)",
          reason: "could not be read as CSV",
          raw: rawOf(b.record.text),
        });
        return;
      }
      const built = buildItem(opts.kind, cols, rowCells);
      if ("error" in built) {
        result.invalid++;
        report({ line: b.record.line, ...built.error, raw: rawOf(b.record.text) });
        return;
      }
      items.push(built.item);
      sources.push(b);
    });
    if (items.length > 0) {
      const { errors } = await opts.sink({ items, firstRow: sources[0]?.row ?? 0 });
      const bad = new Set<number>();
      for (const e of errors) {
        // An error about the whole batch applies to every row in it.
        const indexes = e.index >= 0 && e.index < items.length ? [e.index] : items.map((_, i) => i);
        for (const index of indexes) {
          const record = (sources[index] as { record: Framed }).record;
          bad.add(index);
          report({
            line: record.line,
            field: columnOf(cols, e.field),
            reason: e.reason,
            raw: rawOf(record.text),
          });
        }
      }
      result.invalid += bad.size;
      result.valid += items.length - bad.size;
    }
    opts.onProgress?.({ bytes, rows: result.rows });
  };

  const take = async (lines: PhysicalLine[], eof: boolean) => {
    for (const framed of framer.frame(lines, eof)) {
      if ("skip" in framed) {
        if (!columns) {
          throw new CsvFormatError(
            `the header row (line ${framed.skip.line}) cannot be read: ${framed.problem}`,
          );
        }
        result.rows++;
        result.invalid++;
        report({
          line: framed.skip.line,
          field: "(row)",
          reason: framed.problem,
          raw: rawOf(framed.skip.text),
        });
        continue;
      }
      if (!columns) {
        const headers = decodeCells(framed.text)[0] ?? [];
        columns = mapHeader(opts.kind, headers);
        framer.setHeader(columns.map((c) => c.header));
        continue;
      }
      if (framed.text.replace(/[,\s]/g, "") === "") continue; // a spreadsheet's empty row: ,,,
      result.rows++;
      pending.push({ record: framed, row: result.rows });
      if (pending.length >= batchSize) await flush();
    }
  };

  let first = true;
  for await (const chunk of chunksOf(opts.input)) {
    let text: string;
    if (typeof chunk === "string") {
      text = chunk;
      bytes += Buffer.byteLength(chunk);
    } else {
      text = decoder.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      bytes += chunk.byteLength;
    }
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte order mark from Excel
      first = false;
    }
    await take(splitter.push(text, false), false);
  }
  await take(splitter.push(decoder.end(), true), true);
  if (!columns) throw new CsvFormatError("the file is empty: it needs a header row and data rows");
  await flush();
  opts.onProgress?.({ bytes, rows: result.rows });
  result.errors.sort((a, b) => a.line - b.line);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Error report

/** A cell a spreadsheet would run as a formula is prefixed with ' so it is shown as text. */
function reportCell(v: string | number | undefined): string {
  let s = v === undefined ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes rejected rows as CSV: line, field, reason, raw. */
export async function writeErrorReport(
  errors: readonly CsvRowError[],
  file: string,
): Promise<void> {
  const handle = await open(file, "w");
  try {
    let buf = "line,field,reason,raw\n";
    for (const e of errors) {
      buf += `${[e.line, e.field, e.reason, e.raw].map(reportCell).join(",")}\n`;
      if (buf.length > 1 << 16) {
        await handle.write(buf);
        buf = "";
      }
    }
    await handle.write(buf);
  } finally {
    await handle.close();
  }
}

import { createReadStream } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { MAX_BATCH_ITEMS } from "../../services/ingest.js";
import { buildItem, type Column, columnOf, mapHeader } from "./columns.js";
import { decodeCells, type Framed, Framer, LineSplitter, type PhysicalLine } from "./framer.js";
import {
  CsvFormatError,
  type CsvImportOptions,
  type CsvImportResult,
  type CsvRowError,
} from "./types.js";

/**
 * Streaming CSV import. A small scanner frames records (it knows where quoted fields with line
 * breaks end) and recovers from broken lines; csv-parse decodes the fields of each batch. Each row
 * goes through the same input schemas as the API, via `sink`, and every rejected row comes back
 * with its line number, column and reason. A broken line costs that line only: an unclosed quote
 * does not swallow the rows after it.
 */

export const DEFAULT_BATCH_SIZE = 1000;
/** Errors kept for the report; a wholly wrong file must not exhaust memory. */
export const MAX_KEPT_ERRORS = 50_000;
/** Raw text kept per rejected row. */
const MAX_RAW_CHARS = 1_000;

async function* chunksOf(input: CsvImportOptions["input"]): AsyncGenerator<Uint8Array | string> {
  if (typeof input === "string") {
    yield* createReadStream(input, { highWaterMark: 256 * 1024 });
  } else yield* input;
}

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

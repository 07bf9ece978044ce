import { parse } from "csv-parse/sync";
import { CsvFormatError } from "./types.js";

/**
 * The two parsers: a small scanner frames records from physical lines (it knows where quoted
 * fields with line breaks end) and recovers from broken lines; csv-parse decodes their fields.
 */

/**
 * A quoted field may span lines, but a record this long is an unclosed quote, not data: no input
 * field is longer than a few hundred characters.
 */
const MAX_RECORD_CHARS = 64 * 1024;
const MAX_RECORD_LINES = 100;
/** A physical line longer than this means the input is not a line-oriented CSV file. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;

export interface PhysicalLine {
  text: string;
  number: number;
}

export interface Framed {
  /** The record's text, lines joined with "\n". */
  text: string;
  line: number;
  lines: PhysicalLine[];
  fields: number;
}

export enum Q {
  FieldStart = 0,
  Unquoted = 1,
  Quoted = 2,
  /** A quote inside a quoted field: either the first of "" or the closing quote. */
  QuoteInQuoted = 3,
}

/** Scans one physical line, continuing the quoting state of the record so far. */
export interface ScanState {
  q: Q;
  /** Fields seen so far, counting the current one. */
  fields: number;
  /** The field whose opening quote is the latest. */
  quotedField?: number;
  /** The first field whose closing quote is followed by text. */
  badClose?: number;
}

export function scanLine(text: string, state: ScanState): void {
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
export class Framer {
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
export class LineSplitter {
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

export const decodeCells = (text: string): string[][] =>
  parse(text, { relax_column_count: true, relax_quotes: true, trim: true }) as string[][];

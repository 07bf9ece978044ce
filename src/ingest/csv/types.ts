import { DomainError } from "../../services/errors.js";
import type { ItemError } from "../../services/inputs.js";

/** The shapes of a CSV import, and the error a file that cannot be imported at all raises. */

export type CsvKind = "leads" | "events" | "outcomes";

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

export class CsvFormatError extends DomainError {
  constructor(message: string) {
    super("csv_invalid", message);
  }
}

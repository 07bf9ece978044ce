/** Streaming CSV import of leads and events, and its error report. */
export { DEFAULT_BATCH_SIZE, importCsv, MAX_KEPT_ERRORS } from "./import.js";
export { writeErrorReport } from "./report.js";
export {
  type CsvBatch,
  CsvFormatError,
  type CsvImportOptions,
  type CsvImportResult,
  type CsvKind,
  type CsvProgress,
  type CsvRowError,
} from "./types.js";

import { open } from "node:fs/promises";
import type { CsvRowError } from "./types.js";

/** The error report: rejected rows as a CSV file a spreadsheet opens safely. */

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

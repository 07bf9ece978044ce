import { Presets, SingleBar } from "cli-progress";
import type { CsvProgress } from "../ingest/csv/index.js";

export interface ImportProgress {
  onProgress(progress: CsvProgress): void;
  stop(): void;
}

/** Writes what a progress bar draws; only a terminal gets one. */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
}

const MB = 1024 * 1024;

/**
 * A progress bar over the bytes of the file being imported, drawn on stderr (stdout stays clean
 * for the summary and for pipes). Without a terminal it draws nothing: a log file or a CI run gets
 * the summary line only.
 */
export function withProgress(
  totalBytes: number,
  stream: ProgressStream = process.stderr,
): ImportProgress {
  if (!stream.isTTY) return { onProgress() {}, stop() {} };
  const totalMb = Math.max(totalBytes, 1) / MB;
  const bar = new SingleBar(
    {
      stream,
      format:
        "Importing {bar} {percentage}% | {done}/{size} MB | {rows} rows | ETA {eta_formatted}",
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const fmt = (mb: number) => mb.toFixed(mb < 10 ? 1 : 0);
  bar.start(Math.max(totalBytes, 1), 0, { done: fmt(0), size: fmt(totalMb), rows: 0 });
  let stopped = false;
  return {
    onProgress(p) {
      if (stopped) return;
      bar.update(Math.min(p.bytes, Math.max(totalBytes, 1)), {
        done: fmt(p.bytes / MB),
        size: fmt(totalMb),
        rows: p.rows.toLocaleString("en-US"),
      });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}

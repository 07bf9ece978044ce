import { formatNumber, renderEmpty, renderOption } from "./render.js";
import { type ChartOptions, clampSize, LIMITS, SPARK_GRID, SPARK_SIZE, THEME } from "./theme.js";

export interface ScorePoint {
  /** Epoch milliseconds of the score change; only its order and spacing are used. */
  at: number;
  score: number;
}

/**
 * Keeps at most `max` points, evenly spaced by index, always with the first and the last, so a
 * long history still ends on the current score.
 */
export function thinPoints<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const last = points.length - 1;
  return Array.from({ length: max }, (_, i) => points[Math.round((i * last) / (max - 1))] as T);
}

/**
 * A small line of a lead's score over time with a dot and the value of the latest score; no axes.
 * The title option is ignored: a sparkline sits beside text that names it.
 */
export function renderSparkline(points: readonly ScorePoint[], opts: ChartOptions = {}): Buffer {
  const size = clampSize(opts, SPARK_SIZE);
  const clean = points
    .filter((p) => Number.isFinite(p.at) && Number.isFinite(p.score))
    .sort((a, b) => a.at - b.at);
  const shown = thinPoints(clean, LIMITS.maxSparkPoints);
  const last = shown.at(-1);
  if (last === undefined) return renderEmpty(size, undefined, "No history yet");

  const first = shown[0] ?? last;
  const scores = shown.map((p) => p.score);
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  // A flat history is drawn across the middle instead of along an edge.
  const pad = hi === lo ? Math.max(1, Math.abs(hi) * 0.1) : (hi - lo) * 0.1;
  const span = last.at === first.at ? 1 : 0;

  return renderOption(
    {
      grid: { ...SPARK_GRID, outerBoundsMode: "none" },
      xAxis: { type: "value", show: false, min: first.at - span, max: last.at + span },
      yAxis: { type: "value", show: false, min: lo - pad, max: hi + pad },
      series: [
        {
          type: "line",
          data: shown.map((p) => [p.at, p.score]),
          showSymbol: false,
          lineStyle: { color: THEME.line, width: 2 },
          itemStyle: { color: THEME.line },
        },
        {
          type: "scatter",
          data: [[last.at, last.score]],
          symbolSize: 6,
          // Scatter dots are 0.8 opaque by default; the dot is the line's end, in the line's colour.
          itemStyle: { color: THEME.line, opacity: 1 },
          label: {
            show: true,
            position: "right",
            distance: 6,
            color: THEME.text,
            fontFamily: THEME.fontFamily,
            fontSize: 11,
            formatter: () => formatNumber(Math.round(last.score * 10) / 10),
          },
        },
      ],
    },
    size,
  );
}

import {
  AXIS_LABEL,
  AXIS_LINE,
  renderEmpty,
  renderOption,
  SPLIT_LINE,
  titleOption,
} from "./render.js";
import {
  CHART_GRID,
  CHART_SIZE,
  type ChartOptions,
  clampSize,
  LIMITS,
  plainLabel,
  THEME,
} from "./theme.js";

export interface AucPoint {
  /** e.g. the week, "2026-W48"; shown under its point. */
  label: string;
  /** ROC AUC in [0, 1]; a missing week is left out by the caller, not sent as NaN. */
  auc: number;
}

/** AUC of a coin toss: the dashed line the score has to stay above to be worth anything. */
const CHANCE = 0.5;

/**
 * The score's ROC AUC week by week for the digest, with the 0.5 line of chance. Only the latest
 * `LIMITS.maxAucPoints` points are kept (the caller sends them oldest first).
 */
export function renderAucTrend(points: readonly AucPoint[], opts: ChartOptions = {}): Buffer {
  const size = clampSize(opts, CHART_SIZE);
  const title = opts.title ?? "How well the score ranks outcomes (ROC AUC)";
  const shown = points
    .filter((p) => Number.isFinite(p.auc))
    .slice(-LIMITS.maxAucPoints)
    .map((p) => ({ label: plainLabel(p.label), auc: Math.min(1, Math.max(0, p.auc)) }));
  if (shown.length === 0) return renderEmpty(size, title, "No data yet");

  const lowest = Math.min(...shown.map((p) => p.auc));
  return renderOption(
    {
      title: titleOption(title),
      grid: { ...CHART_GRID, outerBoundsMode: "none" },
      xAxis: {
        type: "category",
        boundaryGap: true,
        data: shown.map((p) => p.label),
        axisLabel: { ...AXIS_LABEL, hideOverlap: true },
        axisLine: AXIS_LINE,
        axisTick: { show: false },
      },
      yAxis: {
        type: "value",
        min: Math.min(CHANCE, Math.floor(lowest * 10) / 10),
        max: 1,
        axisLabel: { ...AXIS_LABEL, formatter: (v: number) => v.toFixed(1) },
        splitLine: SPLIT_LINE,
      },
      series: [
        {
          type: "line",
          data: shown.map((p) => p.auc),
          symbol: "circle",
          symbolSize: 7,
          showSymbol: shown.length <= 30,
          lineStyle: { color: THEME.line, width: 2.5 },
          itemStyle: { color: THEME.line },
          label: {
            show: shown.length <= 12,
            position: "top",
            color: THEME.text,
            fontFamily: THEME.fontFamily,
            fontSize: 11,
            formatter: (p) => (typeof p.value === "number" ? p.value.toFixed(2) : ""),
          },
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { color: THEME.muted, type: "dashed", width: 1 },
            label: {
              formatter: "chance",
              position: "insideEndTop",
              color: THEME.muted,
              fontFamily: THEME.fontFamily,
              fontSize: 11,
            },
            data: [{ yAxis: CHANCE }],
          },
        },
      ],
    },
    size,
  );
}

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

export interface ScoreBand {
  /** e.g. "0–10" or "90–100": the band's score range, shown under its bar. */
  label: string;
  leads: number;
  won: number;
  /** Conversion rate in [0, 1]; values outside are clamped. */
  rate: number;
}

/**
 * Bars of conversion rate per score band, each labelled with its rate and won/leads counts.
 * Bands beyond `LIMITS.maxBands` are dropped from the end (the caller sends them low to high).
 */
export function renderConversionByBand(
  bands: readonly ScoreBand[],
  opts: ChartOptions = {},
): Buffer {
  const size = clampSize(opts, CHART_SIZE);
  const title = opts.title ?? "Conversion by score band";
  const shown = bands.slice(0, LIMITS.maxBands);
  if (shown.length === 0) return renderEmpty(size, title, "No data yet");

  const rows = shown.map((b) => ({
    label: plainLabel(b.label),
    leads: wholeCount(b.leads),
    won: wholeCount(b.won),
    percent: Number.isFinite(b.rate) ? Math.min(1, Math.max(0, b.rate)) * 100 : 0,
  }));
  return renderOption(
    {
      title: titleOption(title),
      grid: { ...CHART_GRID, outerBoundsMode: "none" },
      xAxis: {
        type: "category",
        data: rows.map((r) => r.label),
        axisLabel: { ...AXIS_LABEL, interval: 0, hideOverlap: true },
        axisLine: AXIS_LINE,
        axisTick: { show: false },
        name: "score band",
        nameLocation: "middle",
        nameGap: 30,
        nameTextStyle: AXIS_LABEL,
      },
      yAxis: {
        type: "value",
        min: 0,
        max: (extent) => Math.min(100, Math.max(10, Math.ceil((extent.max * 1.2) / 10) * 10)),
        axisLabel: { ...AXIS_LABEL, formatter: "{value}%" },
        splitLine: SPLIT_LINE,
      },
      series: [
        {
          type: "bar",
          barCategoryGap: "25%",
          itemStyle: { color: THEME.bar },
          data: rows.map((r) => ({ value: r.percent, leads: r.leads, won: r.won })),
          label: {
            show: true,
            position: "top",
            color: THEME.text,
            fontFamily: THEME.fontFamily,
            fontSize: 11,
            // Built from numbers only, so no data text reaches the template.
            formatter: (p) => {
              const r = rows[p.dataIndex];
              return r ? `${Math.round(r.percent)}%\n${r.won}/${r.leads}` : "";
            },
          },
        },
      ],
    },
    size,
  );
}

function wholeCount(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0;
}

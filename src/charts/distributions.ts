import {
  AXIS_LABEL,
  AXIS_LINE,
  formatNumber,
  renderEmpty,
  renderOption,
  SPLIT_LINE,
  titleOption,
} from "./render.js";
import { CHART_GRID, CHART_SIZE, type ChartOptions, clampSize, LIMITS, THEME } from "./theme.js";

export interface ScoreDistributions {
  won: readonly number[];
  lost: readonly number[];
}

export interface DistributionOptions extends ChartOptions {
  /** Number of shared bins; clamped to `LIMITS.minBins`..`LIMITS.maxBins`. */
  bins?: number;
}

export interface Histogram {
  /** Lower edge of each bin; the last bin includes its upper edge. */
  edges: number[];
  width: number;
  won: number[];
  lost: number[];
}

/**
 * Counts won and lost scores on the same bins, spread evenly from the lowest score to the highest
 * of both groups, so the two shapes can be compared bar for bar. Non-finite scores are ignored.
 */
export function shareBins(data: ScoreDistributions, bins: number): Histogram | undefined {
  const won = data.won.filter(Number.isFinite);
  const lost = data.lost.filter(Number.isFinite);
  const all = [...won, ...lost];
  if (all.length === 0) return undefined;
  let lo = Math.floor(Math.min(...all));
  let hi = Math.ceil(Math.max(...all));
  if (hi === lo) {
    lo -= 1;
    hi += 1;
  }
  const n = Math.round(Math.min(LIMITS.maxBins, Math.max(LIMITS.minBins, bins)));
  const width = (hi - lo) / n;
  const count = (scores: number[]): number[] => {
    const out = new Array<number>(n).fill(0);
    for (const s of scores) {
      const i = Math.min(n - 1, Math.floor((s - lo) / width));
      out[i] = (out[i] ?? 0) + 1;
    }
    return out;
  };
  return {
    edges: Array.from({ length: n }, (_, i) => lo + i * width),
    width,
    won: count(won),
    lost: count(lost),
  };
}

/**
 * Two histograms on shared bins: lost as wide bars, won as narrower bars drawn over them, both as
 * the share of their own group (won leads are usually far fewer than lost ones), counts in the legend.
 */
export function renderScoreDistributions(
  data: ScoreDistributions,
  opts: DistributionOptions = {},
): Buffer {
  const size = clampSize(opts, CHART_SIZE);
  const title = opts.title ?? "Scores of won and lost leads";
  const hist = shareBins(data, opts.bins ?? LIMITS.defaultBins);
  if (hist === undefined) return renderEmpty(size, title, "No data yet");

  const wonTotal = hist.won.reduce((a, b) => a + b, 0);
  const lostTotal = hist.lost.reduce((a, b) => a + b, 0);
  const share = (counts: number[], total: number): number[] =>
    counts.map((c) => (total === 0 ? 0 : (c / total) * 100));
  const digits = hist.width >= 1 ? 0 : 1;
  const labels = hist.edges.map(
    (e) => `${formatNumber(round(e, digits))}–${formatNumber(round(e + hist.width, digits))}`,
  );
  const wonName = `Won (n=${wonTotal})`;
  const lostName = `Lost (n=${lostTotal})`;

  return renderOption(
    {
      title: titleOption(title),
      legend: {
        top: 14,
        right: CHART_GRID.right,
        itemWidth: 14,
        itemHeight: 10,
        // ECharts measures text without the real font; the gap keeps DejaVu's wider text apart.
        itemGap: 28,
        textStyle: { color: THEME.text, fontFamily: THEME.fontFamily, fontSize: 12 },
        data: [lostName, wonName],
      },
      grid: { ...CHART_GRID, outerBoundsMode: "none" },
      // The won bars sit on a hidden twin of the category axis so each is centred on its lost bar.
      xAxis: [
        {
          type: "category",
          data: labels,
          axisLabel: { ...AXIS_LABEL, interval: 0, hideOverlap: true },
          axisLine: AXIS_LINE,
          axisTick: { show: false },
          name: "score at outcome",
          nameLocation: "middle",
          nameGap: 30,
          nameTextStyle: AXIS_LABEL,
        },
        { type: "category", data: labels, show: false },
      ],
      yAxis: {
        type: "value",
        min: 0,
        axisLabel: { ...AXIS_LABEL, formatter: "{value}%" },
        splitLine: SPLIT_LINE,
      },
      series: [
        {
          name: lostName,
          type: "bar",
          barWidth: "80%",
          itemStyle: { color: THEME.lost },
          data: share(hist.lost, lostTotal),
        },
        {
          name: wonName,
          type: "bar",
          barWidth: "40%",
          xAxisIndex: 1,
          itemStyle: { color: THEME.won },
          data: share(hist.won, wonTotal),
        },
      ],
    },
    size,
  );
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/*
 * Charts are drawn with Apache ECharts' server-side SVG renderer and rasterised to PNG with
 * @resvg/resvg-js. ECharts is a mature, actively released Apache project whose SSR mode is pure
 * JavaScript (no DOM, no canvas package); resvg-js ships its Rust rasteriser as prebuilt per-platform
 * npm packages (optionalDependencies), so `npm install` pulls everything from the npm registry with
 * no native build and no install-time download. node-canvas (which chart.js needs on a server)
 * compiles or downloads its binary at install time instead. Fonts come from the registry too (see
 * FONT_FILES in theme.ts). Every function here is pure: data in, PNG Buffer out.
 */
export { type AucPoint, renderAucTrend } from "./auc-trend.js";
export { renderConversionByBand, type ScoreBand } from "./conversion.js";
export {
  type DistributionOptions,
  type Histogram,
  renderScoreDistributions,
  type ScoreDistributions,
  shareBins,
} from "./distributions.js";
export { renderSparkline, type ScorePoint, thinPoints } from "./sparkline.js";
export {
  CHART_GRID,
  CHART_SIZE,
  type ChartOptions,
  LIMITS,
  type Size,
  SPARK_GRID,
  SPARK_SIZE,
  THEME,
} from "./theme.js";

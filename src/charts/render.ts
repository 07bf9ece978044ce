import { Resvg } from "@resvg/resvg-js";
import {
  BarChart,
  type BarSeriesOption,
  LineChart,
  type LineSeriesOption,
  ScatterChart,
  type ScatterSeriesOption,
} from "echarts/charts";
import {
  GraphicComponent,
  type GraphicComponentOption,
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  MarkLineComponent,
  type MarkLineComponentOption,
  TitleComponent,
  type TitleComponentOption,
} from "echarts/components";
import { type ComposeOption, init, use } from "echarts/core";
import { SVGRenderer } from "echarts/renderers";
import { FONT_FILES, LIMITS, plainLabel, type Size, THEME } from "./theme.js";

use([
  BarChart,
  LineChart,
  ScatterChart,
  GridComponent,
  TitleComponent,
  LegendComponent,
  GraphicComponent,
  MarkLineComponent,
  SVGRenderer,
]);

export type ChartOption = ComposeOption<
  | BarSeriesOption
  | LineSeriesOption
  | ScatterSeriesOption
  | GridComponentOption
  | TitleComponentOption
  | LegendComponentOption
  | GraphicComponentOption
  | MarkLineComponentOption
>;

/** Renders an ECharts option to SVG on the server, then rasterises it to a PNG of exactly `size`. */
export function renderOption(option: ChartOption, size: Size): Buffer {
  const chart = init(null, null, {
    renderer: "svg",
    ssr: true,
    width: size.width,
    height: size.height,
  });
  let svg: string;
  try {
    chart.setOption({
      animation: false,
      backgroundColor: THEME.background,
      textStyle: { fontFamily: THEME.fontFamily, fontSize: THEME.fontSize, color: THEME.text },
      ...option,
    });
    svg = chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
  return svgToPng(svg, size);
}

export function svgToPng(svg: string, size: Size): Buffer {
  const resvg = new Resvg(svg, {
    background: THEME.background,
    fitTo: { mode: "width", value: size.width },
    font: {
      loadSystemFonts: false,
      fontFiles: [...FONT_FILES],
      defaultFontFamily: THEME.fontFamily,
      sansSerifFamily: THEME.fontFamily,
    },
  });
  return resvg.render().asPng();
}

/** The chart title, top left, or nothing. */
export function titleOption(title: string | undefined): TitleComponentOption | undefined {
  if (title === undefined || title.trim() === "") return undefined;
  return {
    text: plainLabel(title, LIMITS.maxTitleChars),
    left: 16,
    top: 12,
    textStyle: { fontFamily: THEME.fontFamily, fontSize: THEME.titleSize, color: THEME.text },
  };
}

/** A chart with nothing to plot says so instead of drawing empty axes (or throwing). */
export function renderEmpty(size: Size, title: string | undefined, message: string): Buffer {
  const small = size.height < 100;
  const titled = small ? undefined : titleOption(title);
  return renderOption(
    {
      ...(titled ? { title: titled } : {}),
      graphic: [
        {
          type: "text",
          left: "center",
          top: "middle",
          style: {
            text: message,
            fill: THEME.muted,
            // Family and size apart: ECharts does not escape quotes inside its style attribute.
            fontFamily: THEME.fontFamily,
            fontSize: small ? 11 : 16,
          },
        },
      ],
    },
    size,
  );
}

/** Shared axis look: muted labels, light grid lines. */
export const AXIS_LABEL = { color: THEME.muted, fontFamily: THEME.fontFamily, fontSize: 11 };
export const AXIS_LINE = { lineStyle: { color: THEME.muted } };
export const SPLIT_LINE = { lineStyle: { color: THEME.gridLine } };

/** Numbers as people read them on a chart: whole when whole, else up to `digits` decimals. */
export function formatNumber(n: number, digits = 1): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits).replace(/\.?0+$/, "");
}

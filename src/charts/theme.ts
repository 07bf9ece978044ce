import { createRequire } from "node:module";

/** Colours shared by every chart; Okabe-Ito blue and orange stay apart for colour-blind readers. */
export const THEME = {
  background: "#ffffff",
  text: "#1f2933",
  muted: "#6b7280",
  gridLine: "#e5e7eb",
  bar: "#0072b2",
  line: "#0072b2",
  won: "#0072b2",
  lost: "#e69f00",
  fontFamily: "DejaVu Sans",
  fontSize: 12,
  titleSize: 15,
} as const;

/** Plot margins in px for the full-size charts; fixed so labels never move the bars around. */
export const CHART_GRID = { left: 56, right: 24, top: 56, bottom: 56 } as const;

/** Plot margins for the sparkline: room on the right for the latest score. */
export const SPARK_GRID = { left: 4, right: 44, top: 6, bottom: 6 } as const;

export interface Size {
  width: number;
  height: number;
}

export interface SizeLimits {
  min: Size;
  max: Size;
  default: Size;
}

/** Past 2000 px a chart is no easier to read in a message and only costs upload time and memory. */
export const CHART_SIZE: SizeLimits = {
  min: { width: 240, height: 160 },
  max: { width: 2000, height: 1200 },
  default: { width: 800, height: 420 },
};

/** A sparkline sits beside text in a message: small by design. */
export const SPARK_SIZE: SizeLimits = {
  min: { width: 80, height: 24 },
  max: { width: 800, height: 200 },
  default: { width: 240, height: 60 },
};

/** Caps on inputs so a runaway query cannot make a chart nobody can read (or a huge SVG). */
export const LIMITS = {
  /** Deciles are 10; 20 leaves room for finer bands and no more fits under a label each. */
  maxBands: 20,
  /** Two years of weekly digests. */
  maxAucPoints: 104,
  /** A 240 px line cannot show more than about one point per pixel anyway. */
  maxSparkPoints: 500,
  /** Shared bins of the won/lost histograms. */
  defaultBins: 10,
  minBins: 2,
  maxBins: 40,
  /** Axis labels longer than this overlap their neighbours at the default width. */
  maxLabelChars: 24,
  maxTitleChars: 80,
} as const;

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
}

/** Width and height within the limits; a non-finite request falls back to the default. */
export function clampSize(opts: { width?: number; height?: number }, limits: SizeLimits): Size {
  const pick = (v: number | undefined, min: number, max: number, dflt: number): number =>
    v === undefined || !Number.isFinite(v) ? dflt : Math.round(Math.min(max, Math.max(min, v)));
  return {
    width: pick(opts.width, limits.min.width, limits.max.width, limits.default.width),
    height: pick(opts.height, limits.min.height, limits.max.height, limits.default.height),
  };
}

/**
 * Text that comes from data is shown, never read: control characters and newlines become spaces,
 * rich-text braces are dropped (ECharts reads `{style|text}`), and long text is cut with an ellipsis.
 * XML escaping is the renderer's job (ECharts escapes `<`, `>` and `&` in SVG text).
 */
export function plainLabel(text: string, maxChars: number = LIMITS.maxLabelChars): string {
  const flat = text
    .replace(/\p{Cc}+/gu, " ")
    .replace(/[{}]/g, "")
    .trim();
  const chars = Array.from(flat);
  return chars.length <= maxChars ? flat : `${chars.slice(0, maxChars - 1).join("")}…`;
}

const require = createRequire(import.meta.url);

/**
 * The fonts are bundled from the npm registry (dejavu-fonts-ttf) and loaded by path, with system
 * fonts off: resvg draws no text without a font, and a server may have none installed, so every
 * machine renders the same pixels. DejaVu Sans covers Latin, Greek and Cyrillic and the `–…·` we use.
 */
export const FONT_FILES: readonly string[] = [
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf"),
  require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf"),
];

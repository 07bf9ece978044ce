import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  CHART_GRID,
  LIMITS,
  renderAucTrend,
  renderConversionByBand,
  renderScoreDistributions,
  renderSparkline,
  type ScoreBand,
  SPARK_GRID,
  shareBins,
  THEME,
  thinPoints,
} from "../../src/charts/index.js";
import { plainLabel } from "../../src/charts/theme.js";

interface Image {
  width: number;
  height: number;
  at(x: number, y: number): string;
  count(colour: string, box?: Box): number;
}
interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function decode(buf: Buffer): Image {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const png = PNG.sync.read(buf);
  const at = (x: number, y: number): string => {
    const i = (png.width * Math.round(y) + Math.round(x)) * 4;
    const hex = (n: number | undefined) => (n ?? 0).toString(16).padStart(2, "0");
    return `#${hex(png.data[i])}${hex(png.data[i + 1])}${hex(png.data[i + 2])}`;
  };
  const count = (colour: string, box: Box = { x0: 0, y0: 0, x1: png.width, y1: png.height }) => {
    let n = 0;
    for (let y = box.y0; y < box.y1; y++)
      for (let x = box.x0; x < box.x1; x++) if (at(x, y) === colour) n++;
    return n;
  };
  return { width: png.width, height: png.height, at, count };
}

/** Pixels darker than light grey: text, lines, bars; anything that is not background. */
function inkIn(img: Image, box: Box): number {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++)
    for (let x = box.x0; x < box.x1; x++)
      if (Number.parseInt(img.at(x, y).slice(1, 3), 16) < 0xc0) n++;
  return n;
}

/** Same colour within a few levels per channel: thin lines and dots end in anti-aliased pixels. */
function near(actual: string, expected: string, tolerance = 12): boolean {
  const rgb = (c: string) => [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16));
  const a = rgb(actual);
  return rgb(expected).every((v, i) => Math.abs(v - (a[i] ?? 0)) <= tolerance);
}

/** Height in px of the run of `colour` going up from just above the x axis in column `x`. */
function runUp(img: Image, x: number, colour: string): number {
  let y = img.height - CHART_GRID.bottom - 2;
  let n = 0;
  while (y > 0 && img.at(x, y) === colour) {
    n++;
    y--;
  }
  return n;
}

function bandCentre(img: Image, i: number, n: number): number {
  const plot = img.width - CHART_GRID.left - CHART_GRID.right;
  return CHART_GRID.left + ((i + 0.5) * plot) / n;
}

const deciles: ScoreBand[] = [
  [40, 1],
  [35, 2],
  [30, 3],
  [28, 5],
  [25, 6],
  [20, 8],
  [18, 9],
  [12, 9],
  [10, 6],
  [6, 3],
].map(([leads = 0, won = 0], i) => ({
  label: `${i * 10}–${i * 10 + 10}`,
  leads,
  won,
  rate: won / leads,
}));

describe("conversion by score band", () => {
  it("when bands are given, then the PNG has the asked size, the theme background and the tallest bar is tallest in bar colour", () => {
    const img = decode(renderConversionByBand(deciles, { width: 640, height: 360 }));
    expect([img.width, img.height]).toEqual([640, 360]);
    expect(img.at(2, 2)).toBe(THEME.background);
    expect(img.at(img.width - 3, img.height - 3)).toBe(THEME.background);

    const tallest = deciles.reduce(
      (best, b, i) => ((deciles[best]?.rate ?? 0) < b.rate ? i : best),
      0,
    );
    expect(tallest).toBe(7);
    const heights = deciles.map((_, i) =>
      runUp(img, bandCentre(img, i, deciles.length), THEME.bar),
    );
    expect(
      img.at(bandCentre(img, tallest, deciles.length), img.height - CHART_GRID.bottom - 40),
    ).toBe(THEME.bar);
    expect(Math.max(...heights)).toBe(heights[tallest]);
    // Rates 0.025 and 0.75: bar heights keep their proportion within a couple of pixels.
    expect((heights[0] ?? 0) / (heights[tallest] ?? 1)).toBeCloseTo(0.025 / 0.75, 1);
  });

  it("when no size is asked, then the default is 800x420 and the title is drawn with the bundled font", () => {
    const img = decode(renderConversionByBand(deciles));
    expect([img.width, img.height]).toEqual([800, 420]);
    expect(inkIn(img, { x0: 0, y0: 0, x1: 300, y1: CHART_GRID.top - 10 })).toBeGreaterThan(100);
  });

  it("when a size is out of bounds, then it is clamped to the limits", () => {
    const big = decode(renderConversionByBand(deciles, { width: 10_000, height: 5 }));
    expect([big.width, big.height]).toEqual([2000, 160]);
  });

  it("when labels hold markup, ampersands, quotes, braces or newlines, then they render as text without throwing", () => {
    const bands = deciles.slice(0, 3).map((b, i) => ({
      ...b,
      label: ['<script>alert("x")</script>', "R&D & <b>", "{a|b}\nline two"][i] ?? "",
    }));
    const img = decode(
      renderConversionByBand(bands, {
        title: 'Q3 <b>"won" & lost</b> {x|y}',
        width: 600,
        height: 300,
      }),
    );
    expect([img.width, img.height]).toEqual([600, 300]);
    expect(img.count(THEME.bar)).toBeGreaterThan(500);
  });

  it("when more bands than the limit arrive, then only the first maxBands are drawn", () => {
    const many = Array.from({ length: 50 }, (_, i) => ({
      label: `b${i}`,
      leads: 10,
      won: 5,
      rate: 0.5,
    }));
    const img = decode(renderConversionByBand(many));
    const first = runUp(img, bandCentre(img, 0, LIMITS.maxBands), THEME.bar);
    const last = runUp(img, bandCentre(img, LIMITS.maxBands - 1, LIMITS.maxBands), THEME.bar);
    expect(first).toBeGreaterThan(50);
    expect(last).toBe(first);
  });
});

describe("won and lost score distributions", () => {
  const won = [55, 61, 68, 72, 75, 79, 83, 88, 91, 95];
  const lost = [5, 8, 12, 15, 22, 28, 33, 41, 47, 52, 58, 63, 18, 25, 30];

  it("when both groups have scores, then both series colours appear where only their group has scores", () => {
    const img = decode(renderScoreDistributions({ won, lost }));
    expect([img.width, img.height]).toEqual([800, 420]);
    expect(img.at(1, 1)).toBe(THEME.background);
    expect(img.count(THEME.won)).toBeGreaterThan(1000);
    expect(img.count(THEME.lost)).toBeGreaterThan(1000);

    const bins = LIMITS.defaultBins;
    const base = img.height - CHART_GRID.bottom - 3;
    // Scores 5..95 in 10 bins of 9: the first bin holds only lost scores, the last only won ones.
    expect(img.at(bandCentre(img, 0, bins), base)).toBe(THEME.lost);
    expect(img.at(bandCentre(img, bins - 1, bins), base)).toBe(THEME.won);
    // In a bin with both, the narrower won bar sits centred on the wider lost bar.
    const mixed = 5; // 50..59: lost 52, 58 and won 55
    const c = bandCentre(img, mixed, bins);
    const binWidth = (img.width - CHART_GRID.left - CHART_GRID.right) / bins;
    expect(img.at(c, base)).toBe(THEME.won);
    expect(img.at(c - binWidth * 0.3, base)).toBe(THEME.lost);
    expect(img.at(c + binWidth * 0.3, base)).toBe(THEME.lost);
  });

  it("when scores are binned, then both groups share the same edges and every finite score is counted once", () => {
    const hist = shareBins({ won: [10, 20, Number.NaN], lost: [0, 5, 20] }, 4);
    expect(hist?.edges).toEqual([0, 5, 10, 15]);
    expect(hist?.won).toEqual([0, 0, 1, 1]);
    expect(hist?.lost).toEqual([1, 1, 0, 1]);
    expect(shareBins({ won: [7], lost: [7] }, 2)?.edges).toEqual([6, 7]);
  });

  it("when one group is empty, then the other is still drawn", () => {
    const img = decode(renderScoreDistributions({ won: [], lost }));
    expect(img.count(THEME.lost)).toBeGreaterThan(1000);
  });
});

describe("score-history sparkline", () => {
  const t0 = Date.UTC(2026, 10, 1);
  const day = 86_400_000;
  const history = [10, 14, 30, 26, 41, 50].map((score, i) => ({ at: t0 + i * day, score }));

  it("when a history is given, then a small line ends in a dot at the latest score", () => {
    const img = decode(renderSparkline([...history].reverse()));
    expect([img.width, img.height]).toEqual([240, 60]);
    expect(img.at(1, 1)).toBe(THEME.background);
    expect(img.count(THEME.line)).toBeGreaterThan(100);
    // Latest score 50 is the highest: y range 10..50 padded by 4 each side, so the dot is 4/48 down.
    const plotH = img.height - SPARK_GRID.top - SPARK_GRID.bottom;
    const y = SPARK_GRID.top + (4 / 48) * plotH;
    expect(near(img.at(img.width - SPARK_GRID.right, y), THEME.line)).toBe(true);
    // The first point, lowest, sits at the bottom left.
    const yFirst = img.height - SPARK_GRID.bottom - (4 / 48) * plotH;
    const column = [-1, 0, 1].map((d) => img.at(SPARK_GRID.left + 2, yFirst + d));
    expect(column.some((c) => near(c, THEME.line))).toBe(true);
    // Above the line's start, away from it, is background.
    expect(img.at(SPARK_GRID.left + 2, SPARK_GRID.top)).toBe(THEME.background);
    // The latest score is written to the right of the dot.
    expect(
      inkIn(img, { x0: img.width - SPARK_GRID.right + 5, y0: 0, x1: img.width, y1: 30 }),
    ).toBeGreaterThan(10);
  });

  it("when there is one point, then it is a dot, not an error", () => {
    const img = decode(renderSparkline([{ at: t0, score: 42 }], { width: 120, height: 40 }));
    expect([img.width, img.height]).toEqual([120, 40]);
    expect(img.count(THEME.line)).toBeGreaterThan(5);
  });

  it("when a history is longer than the limit, then it is thinned keeping the first and the last", () => {
    const long = Array.from({ length: 2000 }, (_, i) => i);
    const thin = thinPoints(long, LIMITS.maxSparkPoints);
    expect(thin).toHaveLength(LIMITS.maxSparkPoints);
    expect([thin[0], thin.at(-1)]).toEqual([0, 1999]);
    const img = decode(renderSparkline(long.map((i) => ({ at: t0 + i * 1000, score: i % 97 }))));
    expect(img.count(THEME.line)).toBeGreaterThan(100);
  });
});

describe("weekly AUC trend", () => {
  it("when weeks are given, then the line is drawn on the theme background", () => {
    const points = [0.61, 0.64, 0.7, 0.69, 0.74].map((auc, i) => ({
      label: `2026-W${44 + i}`,
      auc,
    }));
    const img = decode(renderAucTrend(points));
    expect([img.width, img.height]).toEqual([800, 420]);
    expect(img.at(2, 2)).toBe(THEME.background);
    expect(img.count(THEME.line)).toBeGreaterThan(500);
  });

  it("when a label holds markup, then it renders without throwing", () => {
    const img = decode(renderAucTrend([{ label: "<script>&amp;</script>", auc: 0.7 }]));
    expect(img.count(THEME.line)).toBeGreaterThan(20);
  });
});

describe("empty data", () => {
  const centre = (img: Image): Box => ({
    x0: Math.round(img.width * 0.3),
    y0: Math.round(img.height * 0.3),
    x1: Math.round(img.width * 0.7),
    y1: Math.round(img.height * 0.7),
  });

  it.each([
    ["conversion by band", () => renderConversionByBand([])],
    ["score distributions", () => renderScoreDistributions({ won: [], lost: [Number.NaN] })],
    ["AUC trend", () => renderAucTrend([{ label: "W1", auc: Number.NaN }])],
    ["sparkline", () => renderSparkline([])],
  ])(
    "when %s has no data, then it renders a 'no data yet' chart instead of throwing",
    (_, render) => {
      const img = decode(render());
      expect(img.at(1, 1)).toBe(THEME.background);
      // The message is drawn in the middle; nothing in the series colours is.
      expect(inkIn(img, centre(img))).toBeGreaterThan(30);
      expect(img.count(THEME.bar) + img.count(THEME.lost)).toBe(0);
    },
  );
});

describe("plain labels", () => {
  it("when a label has control characters, braces or is too long, then it is flattened and cut", () => {
    expect(plainLabel("a\nb\t{c|d}")).toBe("a b c|d");
    expect(plainLabel("x".repeat(40))).toBe(`${"x".repeat(LIMITS.maxLabelChars - 1)}…`);
    expect(plainLabel("<script> & co")).toBe("<script> & co");
  });
});

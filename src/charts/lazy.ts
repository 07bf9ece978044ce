/**
 * The chart renderers, loaded on first use. ECharts, resvg and the fonts add about 80 MB to a
 * process's memory on import (measured with process.memoryUsage().rss): an instance that never
 * draws a chart (a worker that only scores, the rescore, the CLI) should not pay for them.
 */
let loaded: Promise<typeof import("./index.js")> | undefined;

export function charts(): Promise<typeof import("./index.js")> {
  loaded ??= import("./index.js");
  return loaded;
}

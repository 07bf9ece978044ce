/**
 * Runs `rescoreAll` in a fresh process so its peak RSS is the rescore's own, not the benchmark's.
 * Reads DATABASE_URL and BENCH_NOW; prints one JSON line with the time, the result, the peak RSS
 * the kernel reports (`maxRSS`) and the peak of 50 ms samples.
 */
import { openDatabase } from "../src/db/client.js";
import { rescoreAll } from "../src/services/rescore.js";

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const now = Number(process.env.BENCH_NOW);
  if (!url || !Number.isFinite(now))
    throw new Error("bench/rescore-child.ts needs DATABASE_URL and BENCH_NOW");
  const database = await openDatabase({ url, migrate: false });
  let sampled = process.memoryUsage.rss();
  const timer = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 50);
  const startRss = process.memoryUsage.rss();
  const t0 = performance.now();
  const result = await rescoreAll(database.db, { now, cause: "decay" });
  const ms = performance.now() - t0;
  clearInterval(timer);
  sampled = Math.max(sampled, process.memoryUsage.rss());
  await database.close();
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(
    `${JSON.stringify({ ms, result, maxRssBytes, sampledPeakBytes: sampled, startRssBytes: startRss })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`rescore child: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

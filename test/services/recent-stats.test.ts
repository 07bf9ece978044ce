import { describe, expect, it } from "vitest";
import { RecentStats, type StatsReport } from "../../src/services/stats.js";

/** A report told apart by the call that made it. */
const report = (n: number) => ({ call: n }) as unknown as StatsReport;

describe("RecentStats", () => {
  function setup() {
    let now = 0;
    const calls: string[] = [];
    let fail = false;
    const cache = new RecentStats(
      async (period) => {
        calls.push(period);
        if (fail) throw new Error("database down");
        return report(calls.length);
      },
      () => now,
      60_000,
    );
    return {
      cache,
      calls,
      advance: (ms: number) => {
        now += ms;
      },
      failNext: (v: boolean) => {
        fail = v;
      },
    };
  }

  it("when asked again within a minute, then the kept report answers without computing", async () => {
    const { cache, calls, advance } = setup();
    const first = await cache.get("90d");
    advance(59_999);
    expect(await cache.get("90d")).toBe(first);
    expect(calls).toEqual(["90d"]);
  });

  it("when a minute has passed or another period is asked, then it is computed again", async () => {
    const { cache, calls, advance } = setup();
    await cache.get("90d");
    await cache.get("30d");
    advance(60_000);
    expect(await cache.get("90d")).toEqual(report(3));
    expect(calls).toEqual(["90d", "30d", "90d"]);
  });

  it("when callers arrive while it is computed, then they share the one computation", async () => {
    const { cache, calls } = setup();
    const [a, b] = await Promise.all([cache.get("all"), cache.get("all")]);
    expect(a).toBe(b);
    expect(calls).toEqual(["all"]);
  });

  it("when computing fails, then the failure is not kept and the next caller tries again", async () => {
    const { cache, calls, failNext } = setup();
    failNext(true);
    await expect(cache.get("90d")).rejects.toThrow("database down");
    failNext(false);
    expect(await cache.get("90d")).toEqual(report(2));
    expect(calls).toEqual(["90d", "90d"]);
  });
});

import { describe, expect, it } from "vitest";
import { InFlight } from "../../src/lib/in-flight.js";

/** A piece of work the test ends, with or without an error. */
function pending() {
  let end: (err?: Error) => void = () => {};
  const work = () =>
    new Promise<void>((resolve, reject) => {
      end = (err) => (err ? reject(err) : resolve());
    });
  return { work, end: (err?: Error) => end(err) };
}

describe("work in flight", () => {
  it("when nothing runs, then it is not busy and idle resolves at once", async () => {
    const f = new InFlight();
    expect(f.busy).toBe(false);
    await expect(f.idle()).resolves.toBeUndefined();
  });

  it("when two pieces run, then idle waits for the last to end, whether it succeeds or fails", async () => {
    const f = new InFlight();
    const a = pending();
    const b = pending();
    const ra = f.run(a.work);
    const rb = f.run(b.work);
    expect(f.busy).toBe(true);
    let idle = false;
    const waiting = f.idle().then(() => {
      idle = true;
    });
    a.end();
    await ra;
    await Promise.resolve();
    expect({ busy: f.busy, idle }).toEqual({ busy: true, idle: false });
    b.end(new Error("refused"));
    await expect(rb).rejects.toThrow("refused");
    await waiting;
    expect({ busy: f.busy, idle }).toEqual({ busy: false, idle: true });
  });

  it("when work is started after idle was asked for, then idle still resolves once everything ends", async () => {
    const f = new InFlight();
    const a = pending();
    const ra = f.run(a.work);
    const waiting = f.idle();
    const b = pending();
    const rb = f.run(b.work);
    a.end();
    b.end();
    await Promise.all([ra, rb, waiting]);
    expect(f.busy).toBe(false);
  });
});

/** Fault injection: which calls fail, and how, queued per method or for a window of time. */

export type FailSpec =
  | { status: 429; retryAfter: number }
  | { status: number }
  | { error: string }
  | { hangMs: number };

interface FailWindow {
  method: string;
  until: number;
  spec: FailSpec;
}

export class Faults {
  private readonly queue = new Map<string, FailSpec[]>();
  private readonly windows: FailWindow[] = [];

  /** The next `times` calls to `method` ("*" for any) fail as described. */
  next(method: string, spec: FailSpec, times: number): void {
    const queue = this.queue.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(spec);
    this.queue.set(method, queue);
  }

  /** Every call to `method` ("*" for any) fails as described for the next `ms` milliseconds. */
  during(method: string, ms: number, spec: FailSpec): void {
    this.windows.push({ method, until: Date.now() + ms, spec });
  }

  /** Ends injected failures, queued and timed. */
  clear(): void {
    this.queue.clear();
    this.windows.length = 0;
  }

  /** The failure a call to `method` meets now, if any: queued ones first, then open windows. */
  take(method: string): FailSpec | undefined {
    const now = Date.now();
    for (const key of [method, "*"]) {
      const queue = this.queue.get(key);
      const spec = queue?.shift();
      if (spec) return spec;
    }
    return this.windows.find((w) => w.until > now && (w.method === method || w.method === "*"))
      ?.spec;
  }
}

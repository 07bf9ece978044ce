/**
 * Work in flight, counted: whether any is running, and a promise for the next moment none is.
 * The scorer's background rounds wait on it while this instance accepts event batches.
 */
export class InFlight {
  private running = 0;
  private waiters: (() => void)[] = [];

  get busy(): boolean {
    return this.running > 0;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      if (this.running === 0) {
        const waiters = this.waiters;
        this.waiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  /** Resolves at once when nothing runs, else when the last piece of work now running ends. */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

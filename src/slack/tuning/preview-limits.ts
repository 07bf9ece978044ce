/**
 * Bounds on the tuning preview: every edit in a modal would otherwise run an impact query over
 * the whole store, so a fast typist (or a script clicking) could keep the database busy.
 */

import { Lru } from "../../lib/lru.js";

/** Previews remembered per process; a preview is a few hundred bytes. */
const MAX_CACHED_PREVIEWS = 200;

/**
 * Measured previews keyed by model version and change: the same numbers on the same model give
 * the same impact, so going back to a value already tried costs nothing. A new model version
 * makes a new key, so nothing stale is shown.
 */
export class PreviewCache<T> extends Lru<T> {
  static key(version: number, kind: string, change: unknown): string {
    return `${version}:${kind}:${JSON.stringify(change)}`;
  }

  constructor() {
    super(MAX_CACHED_PREVIEWS);
  }
}

/**
 * One measurement in flight per person. An edit that arrives while one runs waits as the next;
 * a later edit replaces it (only the newest values matter), so a burst of edits costs at most two
 * measurements however long it is.
 */
export class OnePerUser {
  private readonly slots = new Map<string, { next: (() => Promise<void>) | undefined }>();

  /** Runs `task` now, or after the one in flight; resolves when this user's queue is empty. */
  async run(user: string, task: () => Promise<void>, onError: (err: unknown) => void) {
    const slot = this.slots.get(user);
    if (slot) {
      slot.next = task;
      return;
    }
    const mine: { next: (() => Promise<void>) | undefined } = { next: undefined };
    this.slots.set(user, mine);
    try {
      let current: (() => Promise<void>) | undefined = task;
      while (current) {
        mine.next = undefined;
        try {
          await current();
        } catch (err) {
          onError(err);
        }
        current = mine.next;
      }
    } finally {
      this.slots.delete(user);
    }
  }

  /** People with a measurement in flight now. */
  get inFlight(): number {
    return this.slots.size;
  }
}

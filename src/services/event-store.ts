import { DAY_MS } from "../core/engine.js";
import type { Db } from "../db/client.js";
import {
  createMonthPartition,
  defaultPartitionMonths,
  deleteDefaultBefore,
  dropMonthPartition,
  type Month,
  markEventsKeptFrom,
  monthlyPartitions,
  monthOf,
  monthStart,
  nextMonth,
  SPLIT_MIN_ROWS,
  unscoredBefore,
} from "../db/queries/event-partitions.js";

export type { Month };

export interface EventStoreOptions {
  now: number;
  /** LEADBOT_EVENT_RETENTION_DAYS: raw events are kept at least this long; unset keeps all. */
  retentionDays?: number | undefined;
  /** Months to give a partition now whatever they hold (the bench prepares its data's range). */
  months?: readonly Month[] | undefined;
}

export interface EventStoreResult {
  /** Months that got a partition of their own, and how many events moved into them. */
  created: Month[];
  moved: number;
  /** Months whose partition retention dropped, and events deleted from the default partition. */
  dropped: Month[];
  deleted: number;
  /** Epoch ms before which raw events are gone; null while all are kept. */
  keptFrom: number | null;
  /** The drop waited for the scorer: an event older than the cut was not scored yet. */
  deferred?: boolean;
}

/**
 * The first month retention keeps: the month holding `now - retentionDays`, so whole months
 * go, and every event is kept at least `retentionDays`.
 */
export function retentionCutoff(now: number, retentionDays: number): number {
  return monthStart(monthOf(now - retentionDays * DAY_MS));
}

/**
 * Keeps the events table in shape (the scheduler runs it, one instance per tick): the current
 * and next month have partitions before their events arrive; a month that gathered
 * SPLIT_MIN_ROWS events in the default partition (late or early timestamps, or a store that was
 * down at the turn of a month) gets one and its events move there; with a retention, whole
 * months older than it are dropped and the default partition's older events deleted.
 *
 * Dropping loses nothing a score needs: every event is folded into its lead's stored activity
 * (per-rule occurrence times) when it is scored, and a cut waits while an older event is not
 * scored yet, so scores never read dropped events; a later rule-definition change rebuilds from kept events plus that stored activity
 * (see rebuildActivity). The cut and its mark in `event_retention` commit together.
 */
export async function maintainEventStore(
  db: Db,
  opts: EventStoreOptions,
): Promise<EventStoreResult> {
  const result: EventStoreResult = {
    created: [],
    moved: 0,
    dropped: [],
    deleted: 0,
    keptFrom: null,
  };
  const cutoff =
    opts.retentionDays === undefined ? null : retentionCutoff(opts.now, opts.retentionDays);
  const existing = new Set(await monthlyPartitions(db));
  const current = monthOf(opts.now);
  const wanted = new Set<Month>([current, nextMonth(current), ...(opts.months ?? [])]);
  for (const { month, rows } of await defaultPartitionMonths(db))
    if (rows >= SPLIT_MIN_ROWS) wanted.add(month);
  for (const month of [...wanted].sort()) {
    if (existing.has(month)) continue;
    // A month retention is about to drop needs no partition.
    if (cutoff !== null && monthStart(nextMonth(month)) <= cutoff) continue;
    result.moved += await db.transaction((tx) => createMonthPartition(tx, { month }));
    result.created.push(month);
    existing.add(month);
  }
  if (cutoff === null) return result;
  // An accepted event is folded into its lead's activity when the scorer takes it, moments later:
  // until then its month stays, and the next tick tries again.
  if (await unscoredBefore(db, { before: cutoff })) return { ...result, deferred: true };
  const old = [...existing].filter((m) => monthStart(nextMonth(m)) <= cutoff).sort();
  result.deleted = await db.transaction(async (tx) => {
    for (const month of old) await dropMonthPartition(tx, { month });
    const deleted = await deleteDefaultBefore(tx, { before: cutoff });
    await markEventsKeptFrom(tx, { keptFrom: cutoff });
    return deleted;
  });
  result.dropped = old;
  result.keptFrom = cutoff;
  return result;
}

/** One line for the job log. */
export function describeEventStore(r: EventStoreResult): string {
  const parts = [
    r.created.length > 0
      ? `partitions created for ${r.created.join(", ")} (${r.moved} events moved from the default)`
      : "no partition needed",
  ];
  if (r.keptFrom !== null)
    parts.push(
      `events kept from ${new Date(r.keptFrom).toISOString().slice(0, 10)}` +
        (r.dropped.length > 0 ? `, dropped ${r.dropped.join(", ")}` : "") +
        (r.deleted > 0 ? `, ${r.deleted} older events deleted from the default partition` : ""),
    );
  if (r.deferred)
    parts.push("retention waits: an event older than the cut is not scored yet (next tick)");
  return parts.join("; ");
}

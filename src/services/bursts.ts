import type { Db } from "../db/client.js";
import {
  abandonedBursts,
  type BurstInfo,
  type BurstLead,
  burstInfo,
  burstLeadCount,
  burstLeads,
  type ClosedBurst,
  closeBurst,
  openBurst,
  touchBurst,
} from "../db/queries/bursts.js";
import { DomainError } from "./errors.js";
import type { ScoreCause } from "./scoring.js";

export type { BurstInfo, BurstLead };

/** Above this many crossings from one change, one summary instead of per-lead alerts. */
export const DEFAULT_ALERT_BURST = 10;
/**
 * An open burst untouched this long belongs to a change that died half way: each chunk of a
 * rescore touches it within seconds, so fifteen minutes of silence is not a slow change.
 */
export const ABANDONED_BURST_SECONDS = 900;

/** Crossings of these causes are new behaviour and always alert lead by lead. */
export function burstsFor(cause: ScoreCause): boolean {
  return cause !== "events";
}

export interface BurstScope {
  burstId: number;
  /** Called by each chunk of work, so the burst is not taken for abandoned. */
  touch(): Promise<void>;
  /** Ends the change: its held alerts go out one by one, or as one summary. */
  close(): Promise<ClosedBurst | undefined>;
}

/** Opens a burst; the caller closes it when the change ends, failed or not. */
export async function beginAlertBurst(
  db: Db,
  p: { cause: ScoreCause; modelVersion: number; limit: number },
): Promise<BurstScope> {
  const burstId = await openBurst(db, {
    cause: p.cause,
    modelVersion: p.modelVersion,
    limit: p.limit,
  });
  return {
    burstId,
    touch: () => touchBurst(db, burstId),
    close: () => closeBurstNow(db, burstId),
  };
}

/**
 * Runs one change as a burst: the crossings it records hold their alerts until it ends, then
 * they are released one by one or replaced by one summary (see closeBurst). The burst closes even
 * when the change fails half way, so crossings already committed are announced.
 */
export async function withAlertBurst<T>(
  db: Db,
  p: { cause: ScoreCause; modelVersion: number; limit: number },
  fn: (scope: BurstScope) => Promise<T>,
): Promise<{ value: T; closed: ClosedBurst | undefined }> {
  const scope = await beginAlertBurst(db, p);
  let value: T;
  try {
    value = await fn(scope);
  } catch (err) {
    // Closing after a failure still settles what committed; the failure is what the caller sees.
    await scope.close().catch(() => undefined);
    throw err;
  }
  return { value, closed: await scope.close() };
}

function closeBurstNow(db: Db, id: number): Promise<ClosedBurst | undefined> {
  return db.transaction((tx) => closeBurst(tx, id));
}

/** Closes bursts whose change died half way; returns how many alerts they settled. */
export async function closeAbandonedBursts(
  db: Db,
  idleSeconds = ABANDONED_BURST_SECONDS,
): Promise<number> {
  let alerts = 0;
  for (const id of await abandonedBursts(db, idleSeconds)) {
    const closed = await closeBurstNow(db, id);
    alerts += closed?.alerts ?? 0;
  }
  return alerts;
}

export async function getBurst(db: Db, id: number): Promise<BurstInfo> {
  const info = await burstInfo(db, id);
  if (!info) throw new DomainError("not_found", `No model change summary has id ${id}.`);
  return info;
}

export interface BurstLeadPage {
  burst: BurstInfo;
  leads: BurstLead[];
  offset: number;
  total: number;
}

/** One page of the leads a summarised change moved (one owner's when given). */
export async function burstLeadPage(
  db: Db,
  p: { burstId: number; owner?: string | undefined; offset: number; limit: number },
): Promise<BurstLeadPage> {
  const burst = await getBurst(db, p.burstId);
  const [leads, total] = await Promise.all([
    burstLeads(db, p),
    burstLeadCount(db, { burstId: p.burstId, owner: p.owner }),
  ]);
  return { burst, leads, offset: p.offset, total };
}

import type { Database, Db } from "../db/client.js";
import type { Logger } from "../lib/logger.js";
import {
  type EventBatchResult,
  type LeadBatchResult,
  recordEvents,
  upsertLeads,
} from "./ingest.js";
import type { ItemError } from "./inputs.js";
import { type RescoreResult, rescoreAll } from "./rescore.js";
import type { ScoreCause, ScoreSummary } from "./scoring.js";
import { identifyToLead, segmentMessageSchema, segmentToEvent } from "./segment.js";

export interface Services {
  database: Database;
  db: Db;
  logger: Logger;
  clock: () => number;
  upsertLeads(items: readonly unknown[], cause?: ScoreCause): Promise<LeadBatchResult>;
  recordEvents(items: readonly unknown[], cause?: ScoreCause): Promise<EventBatchResult>;
  ingestSegment(messages: readonly unknown[]): Promise<SegmentResult>;
  rescoreAll(cause: ScoreCause): Promise<RescoreResult>;
  /** Subscribes to "alerts were queued" (the dispatcher wakes on it). */
  onAlerts(listener: (count: number) => void): void;
}

export interface SegmentResult {
  leads: number;
  events: number;
  duplicates: number;
  errors: ItemError[];
}

export interface ServicesOptions {
  database: Database;
  logger: Logger;
  clock?: () => number;
}

export function createServices(opts: ServicesOptions): Services {
  const listeners: ((n: number) => void)[] = [];
  const clock = opts.clock ?? Date.now;
  const ctx = () => ({
    db: opts.database.db,
    now: clock(),
    onAlerts: (n: number) => {
      for (const l of listeners) l(n);
    },
  });
  const services: Services = {
    database: opts.database,
    db: opts.database.db,
    logger: opts.logger,
    clock,
    upsertLeads: (items, cause) => upsertLeads(ctx(), items, cause),
    recordEvents: (items, cause) => recordEvents(ctx(), items, cause),
    async ingestSegment(messages) {
      const result: SegmentResult = { leads: 0, events: 0, duplicates: 0, errors: [] };
      const leadItems: { index: number; item: unknown }[] = [];
      const eventItems: { index: number; item: unknown }[] = [];
      messages.forEach((raw, index) => {
        const parsed = segmentMessageSchema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          result.errors.push({
            index,
            field: issue?.path.join(".") || "type",
            reason:
              issue?.code === "invalid_union"
                ? "type must be identify, track or page"
                : (issue?.message ?? "invalid message"),
          });
          return;
        }
        const m = parsed.data;
        if (m.type === "identify") leadItems.push({ index, item: identifyToLead(m) });
        else eventItems.push({ index, item: segmentToEvent(m) });
      });
      // Identify first, so traits land before the events that score them.
      if (leadItems.length > 0) {
        const r = await services.upsertLeads(leadItems.map((l) => l.item));
        result.leads = r.leads.length;
        for (const e of r.errors)
          result.errors.push({ ...e, index: leadItems[e.index]?.index ?? e.index });
      }
      if (eventItems.length > 0) {
        const r = await services.recordEvents(eventItems.map((e) => e.item));
        result.events = r.accepted;
        result.duplicates = r.duplicates;
        for (const e of r.errors)
          result.errors.push({ ...e, index: eventItems[e.index]?.index ?? e.index });
      }
      result.errors.sort((a, b) => a.index - b.index);
      return result;
    },
    rescoreAll: (cause) => rescoreAll(opts.database.db, { now: clock(), cause }),
    onAlerts(listener) {
      listeners.push(listener);
    },
  };
  return services;
}

export type { ScoreSummary };

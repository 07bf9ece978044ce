import type { Services } from "../services/index.js";
import { MAX_BATCH_ITEMS } from "../services/ingest.js";
import { generateDemo } from "./generator.js";
import type { DemoEventInput, DemoLeadInput, DemoOutcome } from "./types.js";

/** The loader: the use case that stores the demo data set through the services the API uses. */

/** Leads per load batch: small enough for a short transaction, large enough to amortise it. */
const LOAD_BATCH_LEADS = 500;

export interface DemoLoadOptions {
  seed: number;
  leads: number;
  /** Epoch ms the behaviour ends at; defaults to the services' clock. */
  now?: number;
  eventsPerLead?: number;
}

export interface DemoLoadResult {
  leads: number;
  events: number;
  outcomes: number;
  /** Alerts queued by leads that crossed a threshold while loading. */
  alerts: number;
}

function describeErrors(what: string, errors: { index: number; field: string; reason: string }[]) {
  const first = errors[0];
  return new Error(
    `demo ${what} rejected (${errors.length}): item ${first?.index} ${first?.field} ${first?.reason}`,
  );
}

/**
 * Loads the demo data set through the same services the ingest API uses, in batches: leads, then
 * their events, then outcomes once every score is in place (outcomes record the score they
 * closed at). Running it again changes nothing: leads upsert, events dedupe on id, outcomes dedupe
 * on the latest one.
 */
export async function loadDemoData(
  services: Services,
  opts: DemoLoadOptions,
): Promise<DemoLoadResult> {
  const now = opts.now ?? services.clock();
  const result: DemoLoadResult = { leads: 0, events: 0, outcomes: 0, alerts: 0 };
  const outcomes: DemoOutcome[] = [];
  let leadBatch: DemoLeadInput[] = [];
  let eventBatch: DemoEventInput[] = [];

  const flush = async () => {
    if (leadBatch.length > 0) {
      const r = await services.upsertLeads(leadBatch, "import");
      if (r.errors.length > 0) throw describeErrors("leads", r.errors);
      result.leads += r.leads.length;
      result.alerts += r.alerts;
    }
    for (let i = 0; i < eventBatch.length; i += MAX_BATCH_ITEMS) {
      const r = await services.recordEvents(eventBatch.slice(i, i + MAX_BATCH_ITEMS), "import");
      if (r.errors.length > 0) throw describeErrors("events", r.errors);
      result.events += r.accepted + r.duplicates;
      result.alerts += r.alerts;
    }
    leadBatch = [];
    eventBatch = [];
  };

  for (const d of generateDemo({
    seed: opts.seed,
    leads: opts.leads,
    now,
    eventsPerLead: opts.eventsPerLead,
  })) {
    leadBatch.push(d.lead);
    for (const e of d.events) eventBatch.push(e);
    if (d.outcome) outcomes.push(d.outcome);
    if (leadBatch.length >= LOAD_BATCH_LEADS) await flush();
  }
  await flush();

  for (const o of outcomes) {
    await services.leads.recordOutcome({
      lead: o.email,
      outcome: o.outcome,
      by: o.by,
      source: "api",
      reason: o.reason,
      note: o.note,
    });
    result.outcomes++;
  }
  return result;
}

import type { Activity, ActivityEvent, ScoringModel } from "../core/model.js";
import { rebuildActivity } from "../core/retention.js";
import type { DbOrTx } from "../db/client.js";
import { eventsKeptFrom, eventsOfLeads } from "../db/queries/events.js";
import { modelByVersion } from "./models.js";

export interface RebuildLead {
  id: number;
  /** The model that scores the lead now. */
  model: ScoringModel;
  /** The stored activity and the model version it was built by, when the lead has them. */
  stored: Activity | null;
  storedVersion: number | null;
}

/**
 * Rebuilds the activity of leads whose stored activity no longer fits their model's rules, from
 * their stored events; once retention has dropped old events, older occurrences of unchanged
 * rules come from the stored activity (see rebuildActivity).
 */
export async function rebuildActivities(
  tx: DbOrTx,
  leads: readonly RebuildLead[],
): Promise<Map<number, Activity>> {
  const out = new Map<number, Activity>();
  if (leads.length === 0) return out;
  const keptFrom = await eventsKeptFrom(tx);
  const evs = await eventsOfLeads(tx, { ids: leads.map((l) => l.id) });
  const byLead = new Map<number, ActivityEvent[]>();
  for (const e of evs) {
    const list = byLead.get(e.lead_id) ?? [];
    list.push({ type: e.type, at: e.at, properties: e.properties });
    byLead.set(e.lead_id, list);
  }
  const fromModels = new Map<number, ScoringModel>();
  for (const l of leads) {
    let retained: Parameters<typeof rebuildActivity>[2] = null;
    if (keptFrom !== null && l.stored && l.storedVersion !== null) {
      let from = fromModels.get(l.storedVersion);
      if (!from) {
        from = await modelByVersion(tx, l.storedVersion);
        fromModels.set(l.storedVersion, from);
      }
      retained = { keptFrom, stored: l.stored, from };
    }
    out.set(l.id, rebuildActivity(byLead.get(l.id) ?? [], l.model, retained));
  }
  return out;
}

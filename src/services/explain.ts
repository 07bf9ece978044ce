import { sql } from "drizzle-orm";
import { emptyActivity, nextStage, score } from "../core/engine.js";
import type { Activity, ScoreResult, Stage } from "../core/model.js";
import { type DbOrTx, execRows } from "../db/client.js";
import { NotFoundError } from "./errors.js";
import { resolveLeadId } from "./leads.js";
import { activeModel } from "./models.js";
import { leadFacts } from "./scoring.js";

export interface Explanation {
  leadId: number;
  name: string | null;
  email: string | null;
  company: string | null;
  modelVersion: number;
  /** The score as of `now`: decay applied up to this moment, not to the last refresh. */
  result: ScoreResult;
  /** The stage the lead is in, given its stored stage and the hysteresis. */
  stage: Stage;
  at: number;
}

/** Every point of a lead's score with the rule that gave it, computed now with the active model. */
export async function explainLead(db: DbOrTx, key: string, now: number): Promise<Explanation> {
  const id = await resolveLeadId(db, key);
  const [row] = await execRows<
    Parameters<typeof leadFacts>[0] & { stage: Stage | null; act: Activity | null }
  >(
    db,
    sql`select l.id::int as id, l.email, l.external_id, l.first_name, l.last_name, l.title,
          l.company, l.industry, l.employees, l.annual_revenue, l.country, l.source, l.owner,
          l.attributes, s.stage, s.activity as act
        from leads l left join lead_scores s on s.lead_id = l.id where l.id = ${id}`,
  );
  if (!row) throw new NotFoundError(`Lead ${id} no longer exists.`);
  const active = await activeModel(db);
  const result = score(leadFacts(row), row.act ?? emptyActivity(), active.model, now);
  const name = [row.first_name, row.last_name].filter(Boolean).join(" ").trim();
  return {
    leadId: id,
    name: name || null,
    email: row.email,
    company: row.company,
    modelVersion: active.version,
    result,
    stage: nextStage(row.stage ?? "lead", result.total, active.model.thresholds),
    at: now,
  };
}

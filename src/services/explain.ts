import { emptyActivity, nextStage, score } from "../core/engine.js";
import type { ScoreResult, Stage } from "../core/model.js";
import type { DbOrTx } from "../db/client.js";
import { explainRow } from "../db/queries/scores.js";
import { NotFoundError } from "./errors.js";
import { resolveLeadId } from "./leads.js";
import { activeModels } from "./models.js";
import { leadFacts } from "./scoring.js";

export interface Explanation {
  leadId: number;
  name: string | null;
  email: string | null;
  company: string | null;
  modelVersion: number;
  /** The key of the model that scores the lead (`default`, `emea`). */
  modelKey?: string;
  /** The score as of `now`: decay applied up to this moment, not to the last refresh. */
  result: ScoreResult;
  /** The stage the lead is in, given its stored stage and the hysteresis. */
  stage: Stage;
  at: number;
}

/** Every point of a lead's score with the rule that gave it, computed now with the lead's model. */
export async function explainLead(db: DbOrTx, key: string, now: number): Promise<Explanation> {
  const id = await resolveLeadId(db, key);
  const row = await explainRow(db, { leadId: id });
  if (!row) throw new NotFoundError(`Lead ${id} no longer exists.`);
  const facts = leadFacts(row);
  const active = (await activeModels(db)).pick(facts);
  const result = score(facts, row.act ?? emptyActivity(), active.model, now);
  const name = [row.first_name, row.last_name].filter(Boolean).join(" ").trim();
  return {
    leadId: id,
    name: name || null,
    email: row.email,
    company: row.company,
    modelVersion: active.version,
    modelKey: active.key,
    result,
    stage: nextStage(row.stage ?? "lead", result.total, active.model.thresholds),
    at: now,
  };
}

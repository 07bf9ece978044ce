import { nextStage, score } from "../core/engine.js";
import { parseLeadKey, UNAMBIGUOUS_KEY_FORMS } from "../core/lead-key.js";
import type { Activity, BreakdownEntry, LeadFacts, Stage } from "../core/model.js";
import { storable, UNSTORABLE_MESSAGE } from "../core/text.js";
import type { Db, DbOrTx } from "../db/client.js";
import { insertAudit } from "../db/queries/audit.js";
import { queueErasureMessages } from "../db/queries/erasures.js";
import { deleteEventIdsOfLead } from "../db/queries/events.js";
import {
  deleteLead,
  findLeads as findLeadRows,
  type LeadSummary,
  leadIdByKey,
  leadWithScore,
  scoreHistoryOf,
  topLeads as topLeadRows,
  transitionsOf,
} from "../db/queries/leads.js";
import { leadsWithMarks } from "../db/queries/marks.js";
import { closureOf, outcomesOf } from "../db/queries/outcomes.js";
import { latestAssignment } from "../db/queries/routing.js";
import { stageCounts as stageCountRows } from "../db/queries/scores.js";
import { insertSuppressions } from "../db/queries/suppressions.js";
import { InvalidInputError, LeadKeyError, NotFoundError } from "./errors.js";
import { emailSchema } from "./inputs.js";
import { activeModels } from "./models.js";
import type { Suppression } from "./suppression.js";

/** Largest page of top leads one request returns. */
export const MAX_TOP = 500;

export type { LeadSummary };

/**
 * Finds a lead by its key (see `parseLeadKey`): an email, `id:N`, `ext:X`, or a bare value looked
 * up as an externalId and then, digits only, as an internal id. `strict` refuses the bare form,
 * for actions such as erasure where naming the wrong lead cannot be undone.
 */
export async function resolveLeadId(
  db: DbOrTx,
  key: string,
  opts: { strict?: boolean } = {},
): Promise<number> {
  const form = parseLeadKey(key);
  const k = key.trim();
  const missing = () =>
    new NotFoundError(`No lead matches "${k}". Name it by ${UNAMBIGUOUS_KEY_FORMS}.`);
  switch (form.kind) {
    case "invalid":
      throw new LeadKeyError(form.reason);
    case "email": {
      const email = emailSchema.safeParse(form.email);
      if (!email.success) throw missing();
      return found(await leadIdByKey(db, { email: email.data }), missing);
    }
    case "id":
      return found(await leadIdByKey(db, { id: form.id }), missing);
    case "ext":
      return found(await leadIdByKey(db, { externalId: form.externalId }), missing);
    case "bare": {
      if (opts.strict) {
        throw new LeadKeyError(
          `"${k}" could be an externalId or an internal id; name the lead by ${UNAMBIGUOUS_KEY_FORMS}.`,
        );
      }
      const byExternal = await leadIdByKey(db, { externalId: form.value });
      if (byExternal !== undefined) return byExternal;
      const asId = /^\d+$/.test(form.value) ? Number(form.value) : undefined;
      if (asId === undefined || !Number.isSafeInteger(asId)) throw missing();
      return found(await leadIdByKey(db, { id: asId }), missing);
    }
  }
}

function found(id: number | undefined, missing: () => Error): number {
  if (id === undefined) throw missing();
  return id;
}

/**
 * A lead with its score as of `now`: stored totals may trail decay by up to DUE_TOLERANCE between
 * refreshes (see refreshDue), so a single lead's score is computed from its activity on read.
 */
export async function getLead(db: DbOrTx, key: string, now: number = Date.now()) {
  const id = await resolveLeadId(db, key);
  const row = await leadWithScore(db, { id });
  if (!row) throw new NotFoundError(`Lead ${id} no longer exists.`);
  if (row.score) row.score = { ...row.score, ...(await scoreNow(db, row.lead, row.score, now)) };
  const [history, transitions, outcomeRows, assignment, closure, unscored] = await Promise.all([
    scoreHistoryOf(db, { id }),
    transitionsOf(db, { id }),
    outcomesOf(db, { leadId: id }),
    latestAssignment(db, { leadId: id }),
    closureOf(db, { leadId: id }),
    leadsWithMarks(db, [id]),
  ]);
  const { lead, score } = row;
  const breakdown: BreakdownEntry[] = score?.breakdown ?? [];
  return {
    id: lead.id,
    email: lead.email,
    externalId: lead.externalId,
    firstName: lead.firstName,
    lastName: lead.lastName,
    title: lead.title,
    company: lead.company,
    industry: lead.industry,
    employees: lead.employees,
    annualRevenue: lead.annualRevenue,
    country: lead.country,
    source: lead.source,
    owner: lead.owner,
    /** How the current owner got the lead: a routing rule, a claim or a person. */
    assignment: assignment && assignment.owner === lead.owner ? assignment : null,
    attributes: lead.attributes,
    createdAt: lead.createdAt,
    updatedAt: lead.updatedAt,
    score: score?.total ?? 0,
    fit: score?.fit ?? 0,
    engagement: score?.engagement ?? 0,
    grade: score?.grade ?? "D",
    level: score?.level ?? 4,
    matrix: `${score?.grade ?? "D"}${score?.level ?? 4}`,
    stage: (score?.stage ?? "lead") as Stage,
    modelVersion: score?.modelVersion ?? null,
    /** The model that scored the lead, as `{ key, version }`; null before the first score. */
    model: score ? { key: score.modelKey, version: score.modelVersion } : null,
    scoredAt: score?.scoredAt ?? null,
    lastEventAt: score?.lastEventAt ?? null,
    /** `pending`: events were accepted that the score does not count yet (moments away). */
    scoring: (unscored.size > 0 ? "pending" : "current") as "pending" | "current",
    breakdown: [...breakdown].sort((a, b) => Math.abs(b.points) - Math.abs(a.points)),
    history,
    transitions,
    outcomes: outcomeRows,
    /** Set when a won or not-a-fit outcome closed the lead: its crossings raise no alert. */
    closed:
      closure && (closure.state === "won" || closure.state === "not_a_fit")
        ? { outcome: closure.state, reason: closure.reason, by: closure.byUser, at: closure.at }
        : null,
  };
}

export type LeadDetail = Awaited<ReturnType<typeof getLead>>;

/** The score fields of a stored score recomputed at `now` with the lead's active model. */
async function scoreNow(
  db: DbOrTx,
  facts: LeadFacts,
  stored: { activity: Activity; stage: Stage },
  now: number,
) {
  const model = (await activeModels(db)).pick(facts).model;
  const r = score(facts, stored.activity, model, now);
  return {
    total: r.total,
    fit: r.fit,
    engagement: r.engagement,
    grade: r.grade,
    level: r.level,
    breakdown: r.breakdown,
    stage: nextStage(stored.stage, r.total, model.thresholds),
  };
}

export interface TopOptions {
  limit: number;
  stage?: Stage | "all" | undefined;
  owner?: string | undefined;
  offset?: number;
  /** Only leads scored by this model (by key). */
  model?: string | undefined;
}

/** The highest-scoring leads, served from the (stage, total) indexes. */
export async function topLeads(db: DbOrTx, opts: TopOptions): Promise<LeadSummary[]> {
  const limit = Math.min(Math.max(1, opts.limit), MAX_TOP);
  return topLeadRows(db, {
    limit,
    stage: opts.stage,
    owner: opts.owner,
    offset: opts.offset,
    model: opts.model,
  });
}

/** Leads whose name, email or company contains the text. */
export async function findLeads(db: DbOrTx, text: string, limit = 20): Promise<LeadSummary[]> {
  if (!storable(text)) throw new InvalidInputError(`The search text ${UNSTORABLE_MESSAGE}.`);
  const needle = `%${text.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return findLeadRows(db, { pattern: needle, limit });
}

export function stageCounts(db: DbOrTx): Promise<Record<Stage, number>> {
  return stageCountRows(db);
}

/**
 * Erases a lead: queues a rewrite of every alert and DM posted about it (the erasure outbox rows
 * outlive the lead and hold only where each message is), suppresses its email and externalId so
 * later data about the person is dropped, then deletes its rows. The audit row keeps the lead id
 * and a keyed hash, no personal data. Only unambiguous keys are accepted.
 */
export async function eraseLead(
  db: Db,
  suppression: Suppression,
  key: string,
  actor: string,
): Promise<{ id: number; messages: number }> {
  // Loaded before the transaction: on PGlite the outer client must not be used inside one.
  const secret = await suppression.key();
  return db.transaction(async (tx) => {
    const id = await resolveLeadId(tx, key, { strict: true });
    const row = await leadWithScore(tx, { id });
    const entries = suppression.entriesOf(secret, {
      email: row?.lead.email,
      externalId: row?.lead.externalId,
    });
    const messages = await queueErasureMessages(tx, { leadId: id });
    await insertSuppressions(tx, { entries, by: actor });
    // The lead's events go with it (a cascade into every partition); their ids go first.
    await deleteEventIdsOfLead(tx, { leadId: id });
    await deleteLead(tx, { id });
    await insertAudit(tx, {
      actor,
      action: "lead.erased",
      subject: `lead:${id}`,
      details: { hashes: entries.map((e) => e.hash), messages },
    });
    return { id, messages };
  });
}

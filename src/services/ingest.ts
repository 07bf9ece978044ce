import type { ActivityEvent } from "../core/model.js";
import type { Db, DbOrTx } from "../db/client.js";
import { insertEvents } from "../db/queries/events.js";
import {
  existingLeadIds,
  insertLeads,
  LEAD_COLUMNS,
  LEAD_FIELDS,
  leadsByKeys,
  updateLeads,
} from "../db/queries/leads.js";
import { lockLeads } from "../db/queries/scores.js";
import { type BurstScope, beginAlertBurst, burstsFor, DEFAULT_ALERT_BURST } from "./bursts.js";
import {
  type EventInput,
  type ItemError,
  itemErrors,
  type LeadInput,
  leadInputSchema,
  parseEventInput,
} from "./inputs.js";
import { activeModel, activeModels } from "./models.js";
import { type ScoreCause, type ScoreSummary, scoreLeads } from "./scoring.js";
import type { Person, Suppression } from "./suppression.js";

/** Largest batch one request may carry: bounds a transaction's locks and memory. */
export const MAX_BATCH_ITEMS = 10_000;

export interface IngestContext {
  db: Db;
  now: number;
  /** Told after a commit that queued alerts, so they go out within seconds. */
  onAlerts?: (count: number) => void;
  /** LEADBOT_ALERT_BURST: more crossings than this from one batch become one summary. */
  alertBurst?: number | undefined;
  /** Erased people: items naming them are dropped and counted, not stored. */
  suppression?: Suppression | undefined;
  /** Told after a commit that left events to the scorer, so it takes them at once. */
  onMarked?: () => void;
}

/** Drops the items that name an erased person; the number dropped. */
async function dropSuppressed<T>(
  ctx: IngestContext,
  valid: T[],
  person: (item: T) => Person,
): Promise<{ kept: T[]; suppressed: number }> {
  if (!ctx.suppression || valid.length === 0) return { kept: valid, suppressed: 0 };
  const hit = await ctx.suppression.suppressed(ctx.db, valid.map(person));
  if (hit.size === 0) return { kept: valid, suppressed: 0 };
  return { kept: valid.filter((_, i) => !hit.has(i)), suppressed: hit.size };
}

export interface LeadBatchResult {
  created: number;
  updated: number;
  leads: { index: number; id: number }[];
  errors: ItemError[];
  alerts: number;
  /** Items dropped because they name an erased (suppressed) person. */
  suppressed: number;
}

export interface EventBatchResult {
  accepted: number;
  duplicates: number;
  leadsCreated: number;
  errors: ItemError[];
  alerts: number;
  /** Events dropped because they name an erased (suppressed) person. */
  suppressed: number;
  /**
   * `pending`: the events are stored and the scorer scores them moments later (alerts follow
   * then); `done`: scored in the batch's own transaction (imports), `alerts` counts their alerts.
   */
  scoring: "pending" | "done";
}

/** The stored form of a lead input: snake_case keys, only the fields that were given. */
function leadDoc(l: LeadInput): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const k of LEAD_FIELDS) {
    const v = l[k];
    if (v !== undefined) doc[LEAD_COLUMNS[k].col] = v;
  }
  if (l.attributes !== undefined) doc.attributes = l.attributes;
  return doc;
}

function findByKeys(tx: DbOrTx, emails: string[], externalIds: string[]) {
  return leadsByKeys(tx, { emails, externalIds });
}

async function rescore(
  tx: DbOrTx,
  ids: number[],
  now: number,
  cause: ScoreCause,
  burst: BurstScope | undefined,
  events?: Map<number, ActivityEvent[]>,
): Promise<ScoreSummary> {
  const models = await activeModels(tx);
  return scoreLeads(tx, ids, { models, now, cause, burstId: burst?.burstId }, events);
}

/**
 * A batch that is not new events (an import, a lead update) is one burst, so a backfill that
 * crosses many leads is announced as one summary; new events alert lead by lead.
 */
async function burstOf(ctx: IngestContext, cause: ScoreCause): Promise<BurstScope | undefined> {
  if (!burstsFor(cause)) return undefined;
  const { version } = await activeModel(ctx.db);
  return beginAlertBurst(ctx.db, {
    cause,
    modelVersion: version,
    limit: ctx.alertBurst ?? DEFAULT_ALERT_BURST,
  });
}

/** Waits for the batch's transaction, then ends its burst whether it committed or not. */
async function settle(work: Promise<void>, burst: BurstScope | undefined): Promise<void> {
  try {
    await work;
  } finally {
    await burst?.close();
  }
}

function tooMany(n: number): ItemError[] {
  return [
    {
      index: -1,
      field: "(batch)",
      reason: `a batch holds at most ${MAX_BATCH_ITEMS} items, got ${n}; split it`,
    },
  ];
}

/** Upserts leads keyed by email (or externalId), rescoring each in the same transaction. */
export async function upsertLeads(
  ctx: IngestContext,
  items: readonly unknown[],
  cause: ScoreCause = "lead",
): Promise<LeadBatchResult> {
  const result: LeadBatchResult = {
    created: 0,
    updated: 0,
    leads: [],
    errors: [],
    alerts: 0,
    suppressed: 0,
  };
  if (items.length > MAX_BATCH_ITEMS) return { ...result, errors: tooMany(items.length) };
  const parsedItems: { index: number; lead: LeadInput }[] = [];
  items.forEach((item, index) => {
    const parsed = leadInputSchema.safeParse(item);
    if (parsed.success) parsedItems.push({ index, lead: parsed.data });
    else result.errors.push(...itemErrors(index, parsed.error));
  });
  const { kept: valid, suppressed } = await dropSuppressed(ctx, parsedItems, (v) => v.lead);
  result.suppressed = suppressed;
  if (valid.length === 0) return result;

  const burst = await burstOf(ctx, cause);
  const work = ctx.db.transaction(async (tx) => {
    const existing = await findByKeys(
      tx,
      valid.flatMap((v) => (v.lead.email ? [v.lead.email] : [])),
      valid.flatMap((v) => (v.lead.externalId ? [v.lead.externalId] : [])),
    );
    const byEmail = new Map(existing.filter((r) => r.email).map((r) => [r.email as string, r]));
    const byExt = new Map(
      existing.filter((r) => r.external_id).map((r) => [r.external_id as string, r]),
    );
    const match = (l: LeadInput) =>
      l.email !== undefined ? byEmail.get(l.email) : byExt.get(l.externalId as string);

    // Within a batch, later items for the same lead refine earlier ones.
    const merged = new Map<string, { indexes: number[]; lead: LeadInput }>();
    for (const v of valid) {
      const owner = match(v.lead);
      const ext = v.lead.externalId !== undefined ? byExt.get(v.lead.externalId) : undefined;
      if (owner && ext && ext.id !== owner.id) {
        result.errors.push({
          index: v.index,
          field: "externalId",
          reason: `externalId ${v.lead.externalId} already belongs to lead ${ext.id}`,
        });
        continue;
      }
      const key = v.lead.email !== undefined ? `e:${v.lead.email}` : `x:${v.lead.externalId}`;
      const prev = merged.get(key);
      if (prev) {
        prev.indexes.push(v.index);
        prev.lead = {
          ...prev.lead,
          ...Object.fromEntries(Object.entries(v.lead).filter(([, x]) => x !== undefined)),
          attributes:
            prev.lead.attributes || v.lead.attributes
              ? { ...prev.lead.attributes, ...v.lead.attributes }
              : undefined,
        };
      } else merged.set(key, { indexes: [v.index], lead: v.lead });
    }

    const fresh = [...merged.values()].filter((m) => !match(m.lead));
    const inserted = await insertLeads(tx, { docs: fresh.map((m) => leadDoc(m.lead)) });
    for (const r of inserted) {
      if (r.email) byEmail.set(r.email, r);
      if (r.external_id) byExt.set(r.external_id, r);
    }
    // A lead another writer inserted meanwhile is updated like any existing one.
    const racing = fresh.filter((m) => !match(m.lead));
    if (racing.length > 0) {
      for (const r of await findByKeys(
        tx,
        racing.flatMap((m) => (m.lead.email ? [m.lead.email] : [])),
        racing.flatMap((m) => (m.lead.externalId ? [m.lead.externalId] : [])),
      )) {
        if (r.email) byEmail.set(r.email, r);
        if (r.external_id) byExt.set(r.external_id, r);
      }
    }
    const insertedIds = new Set(inserted.map((r) => r.id));
    const updates: Record<string, unknown>[] = [];
    const ids: number[] = [];
    for (const m of merged.values()) {
      const row = match(m.lead);
      if (!row) continue;
      ids.push(row.id);
      for (const index of m.indexes) result.leads.push({ index, id: row.id });
      if (insertedIds.has(row.id)) result.created++;
      else {
        result.updated++;
        updates.push({ ...leadDoc(m.lead), id: row.id });
      }
    }
    if (updates.length > 0) {
      // In id order before writing, as scoring locks them: updating rows in the batch's own order
      // while a scorer round holds some of them locked in id order could deadlock.
      await lockLeads(tx, { ids: updates.map((u) => u.id as number).sort((a, b) => a - b) });
      await updateLeads(tx, { docs: updates });
    }
    const summary = await rescore(tx, ids, ctx.now, cause, burst);
    result.alerts = summary.alerts;
  });
  await settle(work, burst);
  result.leads.sort((a, b) => a.index - b.index);
  result.errors.sort((a, b) => a.index - b.index);
  if (result.alerts > 0) ctx.onAlerts?.(result.alerts);
  return result;
}

/**
 * Appends events, idempotently by `id`, creating leads first seen by email or externalId. New
 * events (`cause` "events") are left to the scorer: the transaction stores them with a mark per
 * lead and answers without waiting on any lead's lock. Other causes (an import) rescore the
 * leads in the same transaction, inside the import's alert burst.
 */
export async function recordEvents(
  ctx: IngestContext,
  items: readonly unknown[],
  cause: ScoreCause = "events",
): Promise<EventBatchResult> {
  const result: EventBatchResult = {
    accepted: 0,
    duplicates: 0,
    leadsCreated: 0,
    errors: [],
    alerts: 0,
    suppressed: 0,
    scoring: "done",
  };
  // Only new events are scored later: an import's crossings belong to its burst.
  const deferred = cause === "events";
  if (items.length > MAX_BATCH_ITEMS) return { ...result, errors: tooMany(items.length) };
  const parsedItems: { index: number; event: EventInput }[] = [];
  const seenIds = new Set<string>();
  items.forEach((item, index) => {
    const parsed = parseEventInput(item);
    if (!parsed.success) {
      result.errors.push(...itemErrors(index, parsed.error));
      return;
    }
    if (seenIds.has(parsed.data.id)) {
      result.duplicates++;
      return;
    }
    seenIds.add(parsed.data.id);
    parsedItems.push({ index, event: parsed.data });
  });
  // An event named by internal id cannot be an erased person's: that id is gone.
  const { kept: valid, suppressed } = await dropSuppressed(ctx, parsedItems, (v) =>
    v.event.leadId !== undefined ? {} : { email: v.event.email, externalId: v.event.externalId },
  );
  result.suppressed = suppressed;
  if (valid.length === 0) return result;

  const burst = await burstOf(ctx, cause);
  const work = ctx.db.transaction(async (tx) => {
    const emails = new Set<string>();
    const exts = new Set<string>();
    const leadIds = new Set<number>();
    for (const { event } of valid) {
      if (event.leadId !== undefined) leadIds.add(event.leadId);
      else if (event.email !== undefined) emails.add(event.email);
      else if (event.externalId !== undefined) exts.add(event.externalId);
    }
    const known = await findByKeys(tx, [...emails], [...exts]);
    const byEmail = new Map(known.filter((r) => r.email).map((r) => [r.email as string, r.id]));
    const byExt = new Map(
      known.filter((r) => r.external_id).map((r) => [r.external_id as string, r.id]),
    );
    const missing: Record<string, unknown>[] = [];
    const createdIds: number[] = [];
    for (const e of emails) if (!byEmail.has(e)) missing.push({ email: e });
    for (const x of exts) if (!byExt.has(x)) missing.push({ external_id: x });
    if (missing.length > 0) {
      const created = await insertLeads(tx, { docs: missing });
      result.leadsCreated = created.length;
      for (const r of created) createdIds.push(r.id);
      const all =
        created.length === missing.length ? created : await findByKeys(tx, [...emails], [...exts]);
      for (const r of all) {
        if (r.email) byEmail.set(r.email, r.id);
        if (r.external_id) byExt.set(r.external_id, r.id);
      }
    }
    const existingIds = new Set<number>();
    if (leadIds.size > 0) {
      for (const id of await existingLeadIds(tx, { ids: [...leadIds] })) existingIds.add(id);
    }

    const rows: {
      id: string;
      lead_id: number;
      type: string;
      occurred_at: string;
      properties: unknown;
    }[] = [];
    for (const { index, event } of valid) {
      let leadId: number | undefined;
      if (event.leadId !== undefined) {
        leadId = existingIds.has(event.leadId) ? event.leadId : undefined;
        if (leadId === undefined) {
          result.errors.push({ index, field: "leadId", reason: `no lead has id ${event.leadId}` });
          continue;
        }
      } else if (event.email !== undefined) leadId = byEmail.get(event.email);
      else leadId = byExt.get(event.externalId as string);
      if (leadId === undefined) {
        result.errors.push({ index, field: "email", reason: "the lead could not be created" });
        continue;
      }
      rows.push({
        id: event.id,
        lead_id: leadId,
        type: event.type,
        occurred_at: event.occurredAt.toISOString(),
        properties: event.properties,
      });
    }
    if (deferred) {
      // Leads created here are marked too, so even one whose events were all duplicates is scored.
      if (rows.length === 0 && createdIds.length === 0) return;
      const inserted = await insertEvents(tx, {
        rows: rows.map((r) => [r.id, r.lead_id, r.type, r.occurred_at, r.properties]),
        mark: { alsoMark: createdIds },
      });
      result.accepted = inserted.length;
      result.duplicates += rows.length - inserted.length;
      if (inserted.length > 0 || createdIds.length > 0) result.scoring = "pending";
      return;
    }
    if (rows.length === 0) {
      await rescore(tx, createdIds, ctx.now, cause, burst);
      return;
    }
    const inserted = await insertEvents(tx, {
      rows: rows.map((r) => [r.id, r.lead_id, r.type, r.occurred_at, r.properties]),
    });
    result.accepted = inserted.length;
    result.duplicates += rows.length - inserted.length;
    const insertedIds = new Set(inserted.map((r) => r.id));
    const byLead = new Map<number, ActivityEvent[]>();
    for (const r of rows) {
      if (!insertedIds.has(r.id)) continue;
      const list = byLead.get(r.lead_id) ?? [];
      list.push({
        type: r.type,
        at: Date.parse(r.occurred_at),
        properties: r.properties as Record<string, unknown>,
      });
      byLead.set(r.lead_id, list);
    }
    const summary = await rescore(
      tx,
      [...byLead.keys(), ...createdIds],
      ctx.now,
      cause,
      burst,
      byLead,
    );
    result.alerts = summary.alerts;
  });
  await settle(work, burst);
  result.errors.sort((a, b) => a.index - b.index);
  if (result.alerts > 0) ctx.onAlerts?.(result.alerts);
  if (result.scoring === "pending") ctx.onMarked?.();
  return result;
}

import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

/** `outbox_messages`: webhooks, digests and reminders, claimed and retried like alerts. */

export interface QueueMessageParams {
  kind: string;
  key: string;
  target: string | null;
  payload: Record<string, unknown>;
}

/** Queues messages; a key already queued is skipped. Returns how many were new. */
export async function queueMessages(
  db: DbOrTx,
  rows: readonly QueueMessageParams[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await execRows<{ id: unknown }>(
    db,
    sql`insert into outbox_messages (kind, key, target, payload)
        select r->>'kind', r->>'key', r->>'target', r->'payload'
        from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) r
        on conflict (key) do nothing
        returning id`,
  );
  return inserted.length;
}

export interface ClaimedMessage {
  id: number;
  kind: string;
  key: string;
  target: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  /** Epoch seconds. */
  createdAt: number;
}

/** Claims due rows of the given kinds under a lease, SKIP LOCKED, oldest first. */
export async function claimDueMessages(
  db: DbOrTx,
  p: { kinds: readonly string[]; instanceId: string; limit: number; leaseSeconds: number },
): Promise<ClaimedMessage[]> {
  const rows = await execRows<{
    id: unknown;
    kind: string;
    key: string;
    target: string | null;
    payload: Record<string, unknown>;
    attempts: number;
    created_epoch: number;
  }>(
    db,
    sql`
    update outbox_messages
    set claimed_by = ${p.instanceId},
        claimed_until = now() + make_interval(secs => ${p.leaseSeconds})
    where id in (
      select id from outbox_messages
      where status = 'pending'
        and kind = any(${`{${p.kinds.join(",")}}`}::text[])
        and next_attempt_at <= now()
        and (claimed_until is null or claimed_until < now())
      order by id
      limit ${p.limit}
      for update skip locked)
    returning id, kind, key, target, payload, attempts,
      date_part('epoch', created_at)::float8 as created_epoch`,
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      key: r.key,
      target: r.target,
      payload: r.payload,
      attempts: Number(r.attempts),
      createdAt: Number(r.created_epoch),
    }))
    .sort((a, b) => a.id - b.id);
}

/** Counts an attempt before the sink is called, so a crash mid-call is known on the next try. */
export async function recordMessageAttempt(db: DbOrTx, id: number): Promise<void> {
  await db.execute(sql`update outbox_messages set attempts = attempts + 1 where id = ${id}`);
}

export async function markMessageSent(db: DbOrTx, id: number, ref: string | null): Promise<void> {
  await db.execute(sql`
    update outbox_messages
    set status = 'sent', sent_at = now(), ref = ${ref}, claimed_by = null, claimed_until = null
    where id = ${id}`);
}

export async function markMessageFailed(db: DbOrTx, id: number, error: string): Promise<void> {
  await db.execute(sql`
    update outbox_messages
    set status = 'failed', last_error = ${error}, claimed_by = null, claimed_until = null
    where id = ${id}`);
}

/** Puts a row back to wait `delaySeconds`; a rate limit does not count as an attempt. */
export async function rescheduleMessage(
  db: DbOrTx,
  id: number,
  p: { delaySeconds: number; error: string; countAttempt: boolean },
): Promise<void> {
  await db.execute(sql`
    update outbox_messages
    set next_attempt_at = now() + make_interval(secs => ${p.delaySeconds}),
        attempts = case when ${p.countAttempt} then attempts else greatest(attempts - 1, 0) end,
        claimed_by = null, claimed_until = null, last_error = ${p.error}
    where id = ${id}`);
}

/** Releases claimed rows not worked on, without counting an attempt. */
export async function releaseMessageClaims(
  db: DbOrTx,
  ids: readonly number[],
  delaySeconds: number,
): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    update outbox_messages
    set claimed_by = null, claimed_until = null,
        next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    where id = any(${`{${ids.join(",")}}`}::bigint[])`);
}

/** Rows of a kind, oldest first: what tests and the operator look at. */
export function messagesOfKind(db: DbOrTx, p: { kind: string }) {
  return execRows<{
    id: number;
    key: string;
    status: string;
    attempts: number;
    target: string | null;
    payload: Record<string, unknown>;
  }>(
    db,
    sql`select id::int as id, key, status, attempts, target, payload from outbox_messages
        where kind = ${p.kind} order by id`,
  );
}

/** Rows tailed from each source table per statement: bounded work per run. */
const WEBHOOK_TAIL = 1_000;

const leadJson = sql`jsonb_build_object('id', l.id, 'email', l.email, 'externalId', l.external_id,
  'score', s.total, 'stage', s.stage, 'grade', s.grade)`;

/**
 * Queues a webhook for each stage change, outcome and model version recorded since the last call,
 * tailing those tables by id from a stored cursor (first set at the newest row, so turning
 * webhooks on does not replay history). The rows' keys make a repeat, or a race between
 * instances, queue nothing twice. Returns how many were queued.
 */
export async function queueWebhooks(db: DbOrTx): Promise<number> {
  await db.execute(sql`
    insert into webhook_cursors (source, last_id)
    values ('stage', (select coalesce(max(id), 0) from stage_transitions)),
           ('outcome', (select coalesce(max(id), 0) from outcomes)),
           ('model', (select coalesce(max(version), 0) from models))
    on conflict (source) do nothing`);
  const sources = [
    {
      source: "stage",
      select: sql`select t.id, 'lead.stage_changed:' || t.id as key, jsonb_build_object(
          'type', 'lead.stage_changed', 'id', 'lead.stage_changed:' || t.id,
          'occurredAt', to_char(t.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'data', jsonb_build_object('lead', ${leadJson} || jsonb_build_object('score', t.total, 'stage', t.to_stage),
            'from', t.from_stage, 'to', t.to_stage, 'modelVersion', t.model_version, 'cause', t.cause)) as payload
        from stage_transitions t join leads l on l.id = t.lead_id
        left join lead_scores s on s.lead_id = t.lead_id
        where t.id > (select last_id from webhook_cursors where source = 'stage')
        order by t.id limit ${WEBHOOK_TAIL}`,
    },
    {
      source: "outcome",
      select: sql`select o.id, 'lead.outcome:' || o.id as key, jsonb_build_object(
          'type', 'lead.outcome', 'id', 'lead.outcome:' || o.id,
          'occurredAt', to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'data', jsonb_build_object('lead', ${leadJson}, 'outcome', o.outcome, 'reason', o.reason,
            'scoreAtOutcome', o.score_at_outcome, 'by', o.by_user, 'source', o.source)) as payload
        from outcomes o join leads l on l.id = o.lead_id
        left join lead_scores s on s.lead_id = o.lead_id
        where o.id > (select last_id from webhook_cursors where source = 'outcome')
        order by o.id limit ${WEBHOOK_TAIL}`,
    },
    {
      source: "model",
      select: sql`select m.version as id, 'model.activated:' || m.version as key, jsonb_build_object(
          'type', 'model.activated', 'id', 'model.activated:' || m.version,
          'occurredAt', to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'data', jsonb_build_object('version', m.version, 'name', m.definition->>'name',
            'thresholds', m.definition->'thresholds', 'approvedBy', m.created_by,
            'proposalId', m.proposal_id)) as payload
        from models m
        where m.version > (select last_id from webhook_cursors where source = 'model')
        order by m.version limit ${WEBHOOK_TAIL}`,
    },
  ];
  let queued = 0;
  for (const s of sources) {
    const [row] = await execRows<{ n: number }>(
      db,
      sql`with src as (${s.select}),
        ins as (
          insert into outbox_messages (kind, key, payload)
          select 'webhook', key, payload from src
          on conflict (key) do nothing
          returning 1
        ),
        cur as (
          update webhook_cursors set last_id = greatest(last_id, (select max(id) from src))
          where source = ${s.source} and exists (select 1 from src)
        )
        select (select count(*) from ins)::int as n`,
    );
    queued += row?.n ?? 0;
  }
  return queued;
}

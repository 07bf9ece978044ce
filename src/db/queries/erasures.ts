import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

/** A Slack message about an erased lead, leased to this instance for rewriting. */
export interface ClaimedErasure {
  id: number;
  leadId: number;
  channel: string | null;
  dmUser: string | null;
  messageTs: string;
  attempts: number;
}

/**
 * Copies where every alert and owner DM about a lead landed into the erasure outbox, before the
 * lead's rows (and with them its alert rows) are deleted. Returns how many messages were queued.
 */
export async function queueErasureMessages(db: DbOrTx, p: { leadId: number }): Promise<number> {
  const rows = await execRows<{ id: unknown }>(
    db,
    sql`
    insert into erasure_outbox (lead_id, channel, dm_user, message_ts)
    select lead_id, channel, null, message_ts from alert_outbox
      where lead_id = ${p.leadId} and channel is not null and message_ts is not null
    union all
    select lead_id, null, dm_user, dm_ts from alert_outbox
      where lead_id = ${p.leadId} and dm_user is not null and dm_ts is not null
    returning id`,
  );
  return rows.length;
}

/** Queues the rewrite of one message posted after its lead was erased (a post in flight). */
export async function queueLateErasure(
  db: DbOrTx,
  p: { leadId: number; channel: string; messageTs: string },
): Promise<void> {
  await db.execute(sql`
    insert into erasure_outbox (lead_id, channel, message_ts)
    values (${p.leadId}, ${p.channel}, ${p.messageTs})`);
}

/** Leases due rows to one instance (SKIP LOCKED, expiring lease), like the alert outbox. */
export async function claimDueErasures(
  db: DbOrTx,
  p: { instanceId: string; limit: number; leaseSeconds: number },
): Promise<ClaimedErasure[]> {
  const rows = await execRows<{
    id: string | number;
    lead_id: string | number;
    channel: string | null;
    dm_user: string | null;
    message_ts: string;
    attempts: number;
  }>(
    db,
    sql`
    update erasure_outbox
    set claimed_by = ${p.instanceId},
        claimed_until = now() + make_interval(secs => ${p.leaseSeconds}),
        attempts = attempts + 1
    where id in (
      select id from erasure_outbox
      where status = 'pending'
        and next_attempt_at <= now()
        and (claimed_until is null or claimed_until < now())
      order by id
      limit ${p.limit}
      for update skip locked)
    returning id, lead_id, channel, dm_user, message_ts, attempts`,
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      leadId: Number(r.lead_id),
      channel: r.channel,
      dmUser: r.dm_user,
      messageTs: r.message_ts,
      attempts: Number(r.attempts),
    }))
    .sort((a, b) => a.id - b.id);
}

export async function markErasureDone(
  db: DbOrTx,
  p: { id: number; status: "sent" | "failed"; note: string | null },
): Promise<void> {
  await db.execute(sql`
    update erasure_outbox
    set status = ${p.status}, sent_at = case when ${p.status} = 'sent' then now() end,
        claimed_by = null, claimed_until = null, last_error = ${p.note}
    where id = ${p.id}`);
}

/** Back in the queue after `delaySeconds`; a rate limit does not count as an attempt. */
export async function rescheduleErasure(
  db: DbOrTx,
  p: { id: number; delaySeconds: number; error: string; countAttempt: boolean },
): Promise<void> {
  await db.execute(sql`
    update erasure_outbox
    set next_attempt_at = now() + make_interval(secs => ${p.delaySeconds}),
        attempts = case when ${p.countAttempt} then attempts else greatest(attempts - 1, 0) end,
        claimed_by = null, claimed_until = null, last_error = ${p.error}
    where id = ${p.id}`);
}

/** Releases every lease on the embedded database at start (see releaseAllClaims). */
export async function releaseErasureClaims(db: DbOrTx): Promise<void> {
  await db.execute(sql`
    update erasure_outbox set claimed_by = null, claimed_until = null
    where status = 'pending' and claimed_until is not null`);
}

export async function pendingErasureCount(db: DbOrTx): Promise<number> {
  const [row] = await execRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from erasure_outbox where status = 'pending'`,
  );
  return Number(row?.n ?? 0);
}

import { sql } from "drizzle-orm";
import type { BreakdownEntry, Grade, Stage } from "../../core/model.js";
import { type DbOrTx, execRows } from "../client.js";

/** An outbox row this instance holds a lease on. */
export interface ClaimedAlert {
  id: number;
  leadId: number;
  stage: Stage;
  /** Delivery attempts made before this claim that may have reached Slack. */
  attempts: number;
  channel: string | null;
  messageTs: string | null;
  dmUser: string | null;
  dmTs: string | null;
  /** Epoch seconds: reconciliation looks at messages from here on. */
  createdAt: number;
}

export interface ClaimParams {
  instanceId: string;
  limit: number;
  leaseSeconds: number;
}

/**
 * Leases due rows to one instance. SKIP LOCKED lets instances claim disjoint rows at once, and the
 * lease expires, so rows held by an instance that died go back to the pool.
 */
export async function claimDueAlerts(db: DbOrTx, p: ClaimParams): Promise<ClaimedAlert[]> {
  const rows = await execRows<{
    id: string | number;
    lead_id: string | number;
    stage: Stage;
    attempts: number;
    channel: string | null;
    message_ts: string | null;
    dm_user: string | null;
    dm_ts: string | null;
    created_epoch: number;
  }>(
    db,
    sql`
    update alert_outbox
    set claimed_by = ${p.instanceId},
        claimed_until = now() + make_interval(secs => ${p.leaseSeconds})
    where id in (
      select id from alert_outbox
      where status = 'pending'
        and next_attempt_at <= now()
        and (claimed_until is null or claimed_until < now())
      order by id
      limit ${p.limit}
      for update skip locked)
    returning id, lead_id, stage, attempts, channel, message_ts, dm_user, dm_ts,
      date_part('epoch', created_at)::float8 as created_epoch`,
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      leadId: Number(r.lead_id),
      stage: r.stage,
      attempts: Number(r.attempts),
      channel: r.channel,
      messageTs: r.message_ts,
      dmUser: r.dm_user,
      dmTs: r.dm_ts,
      createdAt: Number(r.created_epoch),
    }))
    .sort((a, b) => a.id - b.id);
}

/** Counts an attempt before anything is sent, so a crash after sending is reconciled later. */
export async function recordAttempt(db: DbOrTx, id: number, instanceId: string): Promise<void> {
  await db.execute(sql`
    update alert_outbox set attempts = attempts + 1
    where id = ${id} and claimed_by = ${instanceId}`);
}

/**
 * Records where the channel alert landed, as soon as Slack confirms it; false when the row is
 * gone (its lead was erased while the post was in flight).
 */
export async function recordChannelPost(
  db: DbOrTx,
  id: number,
  channel: string,
  ts: string,
): Promise<boolean> {
  const rows = await execRows<{ id: unknown }>(
    db,
    sql`update alert_outbox set channel = ${channel}, message_ts = ${ts} where id = ${id}
        returning id`,
  );
  return rows.length > 0;
}

/** Records the owner's direct message; false when the row is gone (see recordChannelPost). */
export async function recordDirectMessage(db: DbOrTx, id: number, ts: string): Promise<boolean> {
  const rows = await execRows<{ id: unknown }>(
    db,
    sql`update alert_outbox set dm_ts = ${ts} where id = ${id} returning id`,
  );
  return rows.length > 0;
}

export async function markSent(db: DbOrTx, id: number, note: string | null): Promise<void> {
  await db.execute(sql`
    update alert_outbox
    set status = 'sent', sent_at = now(), claimed_by = null, claimed_until = null,
        last_error = ${note}
    where id = ${id}`);
}

export interface RescheduleParams {
  delaySeconds: number;
  error: string;
  /** False for a rate limit: the attempt never reached Slack and does not count. */
  countAttempt: boolean;
}

/** Puts a row back in the queue for later and releases the lease. */
export async function reschedule(db: DbOrTx, id: number, p: RescheduleParams): Promise<void> {
  await db.execute(sql`
    update alert_outbox
    set next_attempt_at = now() + make_interval(secs => ${p.delaySeconds}),
        attempts = case when ${p.countAttempt} then attempts else greatest(attempts - 1, 0) end,
        claimed_by = null, claimed_until = null, last_error = ${p.error}
    where id = ${id}`);
}

/**
 * Releases every lease. Only for the embedded database at start: its directory lock guarantees
 * no other process holds a lease, so a lease still standing belongs to a run that was killed.
 */
export async function releaseAllClaims(db: DbOrTx): Promise<number> {
  const rows = await execRows<{ id: unknown }>(
    db,
    sql`update alert_outbox set claimed_by = null, claimed_until = null
        where status = 'pending' and claimed_until is not null
        returning id`,
  );
  return rows.length;
}

/** Releases rows claimed but not worked on, without counting an attempt. */
export async function releaseClaims(
  db: DbOrTx,
  ids: readonly number[],
  delaySeconds: number,
): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    update alert_outbox
    set claimed_by = null, claimed_until = null,
        next_attempt_at = greatest(next_attempt_at, now() + make_interval(secs => ${delaySeconds}))
    where id in (${sql.join(
      ids.map((i) => sql`${i}`),
      sql`, `,
    )})`);
}

export async function markFailed(db: DbOrTx, id: number, error: string): Promise<void> {
  await db.execute(sql`
    update alert_outbox
    set status = 'failed', claimed_by = null, claimed_until = null, last_error = ${error}
    where id = ${id}`);
}

/** What an alert shows about its lead, read at delivery time. */
export interface AlertLead {
  leadId: number;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  title: string | null;
  company: string | null;
  owner: string | null;
  total: number;
  fit: number;
  engagement: number;
  grade: Grade;
  level: number;
  breakdown: BreakdownEntry[];
  /** The model (by key) that scored the lead. */
  modelKey?: string | undefined;
  /** The routing rule that gave the lead its current owner, when one did. */
  routedBy?: string | null | undefined;
  /**
   * Set when the stored lines carry an older version's points (a change of points moved the
   * score but not the lines): the version that scored the lead, and the decay to rescale them by.
   */
  staleLines?: { version: number; decay: Record<string, [number, number]> } | undefined;
}

export async function loadAlertLead(db: DbOrTx, leadId: number): Promise<AlertLead | undefined> {
  const [row] = await execRows<{
    email: string | null;
    first_name: string | null;
    last_name: string | null;
    title: string | null;
    company: string | null;
    owner: string | null;
    total: number | null;
    fit: number | null;
    engagement: number | null;
    grade: Grade | null;
    level: number | null;
    breakdown: BreakdownEntry[] | string | null;
    model_key: string | null;
    routed_by: string | null;
    model_version: number | null;
    lines_version: number | null;
    decay: Record<string, [number, number]> | null;
  }>(
    db,
    sql`
    select l.email, l.first_name, l.last_name, l.title, l.company, l.owner,
      s.total, s.fit, s.engagement, s.grade, s.level, s.breakdown, s.model_key,
      s.model_version, s.lines_version, s.decay,
      (select case when a.source = 'rule' and a.owner = l.owner then a.rule end
        from lead_assignments a where a.lead_id = l.id
        order by a.at desc, a.id desc limit 1) as routed_by
    from leads l left join lead_scores s on s.lead_id = l.id
    where l.id = ${leadId}`,
  );
  if (!row) return undefined;
  const breakdown =
    typeof row.breakdown === "string"
      ? (JSON.parse(row.breakdown) as BreakdownEntry[])
      : (row.breakdown ?? []);
  return {
    leadId,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    title: row.title,
    company: row.company,
    owner: row.owner,
    total: Number(row.total ?? 0),
    fit: Number(row.fit ?? 0),
    engagement: Number(row.engagement ?? 0),
    grade: row.grade ?? "D",
    level: Number(row.level ?? 4),
    breakdown,
    ...(row.model_key ? { modelKey: row.model_key } : {}),
    routedBy: row.routed_by,
    ...(row.model_version !== null &&
    row.lines_version !== null &&
    row.lines_version !== row.model_version &&
    row.decay
      ? { staleLines: { version: row.model_version, decay: row.decay } }
      : {}),
  };
}

/** An alert as the Slack buttons need it: where it was posted and about whom. */
export interface PostedAlert {
  id: number;
  leadId: number;
  stage: Stage;
  status: string;
  channel: string | null;
  messageTs: string | null;
}

interface AlertRow {
  id: number;
  lead_id: number;
  stage: Stage;
  status: string;
  channel: string | null;
  message_ts: string | null;
}

function toAlert(r: AlertRow): PostedAlert {
  return {
    id: Number(r.id),
    leadId: Number(r.lead_id),
    stage: r.stage,
    status: r.status,
    channel: r.channel,
    messageTs: r.message_ts,
  };
}

export async function alertById(db: DbOrTx, id: number): Promise<PostedAlert | undefined> {
  const [row] = await execRows<AlertRow>(
    db,
    sql`select id::int as id, lead_id::int as lead_id, stage, status, channel, message_ts
        from alert_outbox where id = ${id}`,
  );
  return row ? toAlert(row) : undefined;
}

/** The newest alert about a lead that reached the channel: the one an outcome updates. */
export async function latestPostedAlert(
  db: DbOrTx,
  leadId: number,
): Promise<PostedAlert | undefined> {
  const [row] = await execRows<AlertRow>(
    db,
    sql`select id::int as id, lead_id::int as lead_id, stage, status, channel, message_ts
        from alert_outbox
        where lead_id = ${leadId} and message_ts is not null
        order by id desc limit 1`,
  );
  return row ? toAlert(row) : undefined;
}

export interface AwaitingFeedback {
  alertId: number;
  leadId: number;
  stage: Stage;
  name: string | null;
  email: string | null;
  company: string | null;
  score: number;
  alertedAt: Date;
}

/**
 * Alerts about leads the user owns (or claimed) that nobody has answered with an outcome since:
 * what the rep still owes the team.
 */
export async function awaitingFeedback(
  db: DbOrTx,
  userId: string,
  limit: number,
): Promise<AwaitingFeedback[]> {
  const rows = await execRows<{
    alert_id: number;
    lead_id: number;
    stage: Stage;
    name: string | null;
    email: string | null;
    company: string | null;
    score: number | null;
    alerted_at: string | Date;
  }>(
    db,
    sql`select distinct on (a.lead_id) a.id::int as alert_id, a.lead_id::int as lead_id, a.stage,
          nullif(trim(concat_ws(' ', l.first_name, l.last_name)), '') as name, l.email, l.company,
          s.total as score, a.created_at as alerted_at
        from alert_outbox a
        join leads l on l.id = a.lead_id
        left join lead_scores s on s.lead_id = a.lead_id
        where l.owner = ${userId} and a.status = 'sent'
          and not exists (select 1 from outcomes o
                          where o.lead_id = a.lead_id and o.created_at >= a.created_at)
        order by a.lead_id, a.id desc`,
  );
  return rows
    .map((r) => ({
      alertId: Number(r.alert_id),
      leadId: Number(r.lead_id),
      stage: r.stage,
      name: r.name,
      email: r.email,
      company: r.company,
      score: Number(r.score ?? 0),
      alertedAt: new Date(r.alerted_at),
    }))
    .sort((a, b) => b.alertedAt.getTime() - a.alertedAt.getTime())
    .slice(0, limit);
}

/** Alerts waiting for delivery. */
export async function pendingAlertCount(db: DbOrTx): Promise<number> {
  const [row] = await execRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from alert_outbox where status = 'pending'`,
  );
  return row?.n ?? 0;
}

/** Marks every pending alert delivered without posting it, with the reason as its note. */
export async function markPendingDelivered(db: DbOrTx, p: { note: string }): Promise<void> {
  await db.execute(sql`
    update alert_outbox set status = 'sent', sent_at = now(), last_error = ${p.note}
    where status = 'pending'`);
}

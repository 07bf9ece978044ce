import { sql } from "drizzle-orm";
import type { Stage } from "../../core/model.js";
import { type DbOrTx, execRows } from "../client.js";

export interface OpenBurstParams {
  cause: string;
  modelVersion: number;
  limit: number;
}

export async function openBurst(db: DbOrTx, p: OpenBurstParams): Promise<number> {
  const [row] = await execRows<{ id: number }>(
    db,
    sql`insert into alert_bursts (cause, model_version, burst_limit)
        values (${p.cause}, ${p.modelVersion}, ${p.limit}) returning id::int as id`,
  );
  if (!row) throw new Error("alert burst not created");
  return row.id;
}

/** Marks an open burst as still being worked on. */
export async function touchBurst(db: DbOrTx, id: number): Promise<void> {
  await db.execute(sql`update alert_bursts set touched_at = now() where id = ${id}`);
}

export interface ClosedBurst {
  status: "released" | "summarised";
  /** Alerts the burst held. */
  alerts: number;
}

/**
 * Closes an open burst in one statement set: its held alerts go out one by one when at most its
 * limit crossed, else they are marked summarised and one channel summary plus one digest per
 * owner are queued. Undefined when the burst was already closed (by recovery, say).
 */
export async function closeBurst(db: DbOrTx, id: number): Promise<ClosedBurst | undefined> {
  const [burst] = await execRows<{ burst_limit: number; n: number }>(
    db,
    sql`update alert_bursts b set status = 'closing'
        where b.id = ${id} and b.status = 'open'
        returning b.burst_limit,
          (select count(*)::int from alert_outbox a
           where a.burst_id = b.id and a.status = 'held') as n`,
  );
  if (!burst) return undefined;
  if (burst.n === 0) {
    // Most changes (an hourly decay rescore) cross nobody: keep no row for them.
    await db.execute(sql`delete from alert_bursts where id = ${id}`);
    return { status: "released", alerts: 0 };
  }
  const summarise = burst.n > burst.burst_limit;
  if (summarise) {
    await db.execute(sql`
      update alert_outbox set status = 'summarised', sent_at = now(), last_error = 'in summary'
      where burst_id = ${id} and status = 'held'`);
    await db.execute(sql`
      insert into summary_outbox (burst_id, audience) values (${id}, 'channel')
      on conflict (burst_id, audience) do nothing`);
    // The channel's row first: rows go out in id order, and the channel hears before owners.
    await db.execute(sql`
      insert into summary_outbox (burst_id, audience)
      select distinct ${id}::bigint, dm_user from alert_outbox
      where burst_id = ${id} and status = 'summarised' and dm_user is not null and dm_user <> ''
      on conflict (burst_id, audience) do nothing`);
  } else {
    await db.execute(sql`
      update alert_outbox set status = 'pending', next_attempt_at = now()
      where burst_id = ${id} and status = 'held'`);
  }
  const status = summarise ? "summarised" : "released";
  await db.execute(sql`
    update alert_bursts set status = ${status}, closed_at = now() where id = ${id}`);
  return { status, alerts: burst.n };
}

/** Open bursts nobody has touched for `idleSeconds`: their change stopped half way (a crash). */
export async function abandonedBursts(db: DbOrTx, idleSeconds: number): Promise<number[]> {
  const rows = await execRows<{ id: number }>(
    db,
    sql`select id::int as id from alert_bursts
        where status = 'open' and touched_at < now() - make_interval(secs => ${idleSeconds})
        order by id`,
  );
  return rows.map((r) => r.id);
}

export interface BurstInfo {
  burstId: number;
  cause: string;
  modelVersion: number;
  /** Leads the change moved into MQL and into SQL. */
  toMql: number;
  toSql: number;
}

export async function burstInfo(db: DbOrTx, id: number): Promise<BurstInfo | undefined> {
  const [row] = await execRows<{
    cause: string;
    model_version: number;
    to_mql: number;
    to_sql: number;
  }>(
    db,
    sql`select b.cause, b.model_version,
          (select count(*)::int from alert_outbox a
           where a.burst_id = b.id and a.status = 'summarised' and a.stage = 'mql') as to_mql,
          (select count(*)::int from alert_outbox a
           where a.burst_id = b.id and a.status = 'summarised' and a.stage = 'sql') as to_sql
        from alert_bursts b where b.id = ${id}`,
  );
  if (!row) return undefined;
  return {
    burstId: id,
    cause: row.cause,
    modelVersion: Number(row.model_version),
    toMql: Number(row.to_mql),
    toSql: Number(row.to_sql),
  };
}

/** A lead a burst moved, as a summary lists it. */
export interface BurstLead {
  leadId: number;
  name: string | null;
  email: string | null;
  company: string | null;
  owner: string | null;
  stage: Exclude<Stage, "lead">;
  score: number;
}

export interface BurstLeadsParams {
  burstId: number;
  /** Only this owner's leads. */
  owner?: string | undefined;
  offset: number;
  limit: number;
}

/** The leads a summarised burst moved, highest score first (erased leads drop out). */
export async function burstLeads(db: DbOrTx, p: BurstLeadsParams): Promise<BurstLead[]> {
  const rows = await execRows<{
    lead_id: number;
    name: string | null;
    email: string | null;
    company: string | null;
    owner: string | null;
    stage: Exclude<Stage, "lead">;
    score: number | null;
  }>(
    db,
    sql`select a.lead_id::int as lead_id,
          nullif(trim(concat_ws(' ', l.first_name, l.last_name)), '') as name,
          l.email, l.company, l.owner, a.stage, s.total as score
        from alert_outbox a
        join leads l on l.id = a.lead_id
        left join lead_scores s on s.lead_id = a.lead_id
        where a.burst_id = ${p.burstId} and a.status = 'summarised'
          ${p.owner !== undefined ? sql`and a.dm_user = ${p.owner}` : sql``}
        order by s.total desc nulls last, a.lead_id
        offset ${p.offset} limit ${p.limit}`,
  );
  return rows.map((r) => ({
    leadId: Number(r.lead_id),
    name: r.name,
    email: r.email,
    company: r.company,
    owner: r.owner,
    stage: r.stage,
    score: Number(r.score ?? 0),
  }));
}

/** How many leads a summarised burst moved (of one owner when given). */
export async function burstLeadCount(
  db: DbOrTx,
  p: { burstId: number; owner?: string | undefined },
): Promise<number> {
  const [row] = await execRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from alert_outbox a join leads l on l.id = a.lead_id
        where a.burst_id = ${p.burstId} and a.status = 'summarised'
          ${p.owner !== undefined ? sql`and a.dm_user = ${p.owner}` : sql``}`,
  );
  return row?.n ?? 0;
}

/** A summary row this instance holds a lease on. */
export interface ClaimedSummary {
  id: number;
  burstId: number;
  audience: string;
  attempts: number;
  channel: string | null;
  messageTs: string | null;
  createdAt: number;
}

/** Leases due summary rows, like claimDueAlerts. */
export async function claimDueSummaries(
  db: DbOrTx,
  p: { instanceId: string; limit: number; leaseSeconds: number },
): Promise<ClaimedSummary[]> {
  const rows = await execRows<{
    id: string | number;
    burst_id: string | number;
    audience: string;
    attempts: number;
    channel: string | null;
    message_ts: string | null;
    created_epoch: number;
  }>(
    db,
    sql`
    update summary_outbox
    set claimed_by = ${p.instanceId},
        claimed_until = now() + make_interval(secs => ${p.leaseSeconds})
    where id in (
      select id from summary_outbox
      where status = 'pending'
        and next_attempt_at <= now()
        and (claimed_until is null or claimed_until < now())
      order by id
      limit ${p.limit}
      for update skip locked)
    returning id, burst_id, audience, attempts, channel, message_ts,
      date_part('epoch', created_at)::float8 as created_epoch`,
  );
  return rows
    .map((r) => ({
      id: Number(r.id),
      burstId: Number(r.burst_id),
      audience: r.audience,
      attempts: Number(r.attempts),
      channel: r.channel,
      messageTs: r.message_ts,
      createdAt: Number(r.created_epoch),
    }))
    .sort((a, b) => a.id - b.id);
}

export async function recordSummaryAttempt(
  db: DbOrTx,
  id: number,
  instanceId: string,
): Promise<void> {
  await db.execute(sql`
    update summary_outbox set attempts = attempts + 1
    where id = ${id} and claimed_by = ${instanceId}`);
}

export async function recordSummaryPost(
  db: DbOrTx,
  id: number,
  channel: string,
  ts: string,
): Promise<void> {
  await db.execute(sql`
    update summary_outbox set channel = ${channel}, message_ts = ${ts} where id = ${id}`);
}

export async function markSummarySent(db: DbOrTx, id: number, note: string | null): Promise<void> {
  await db.execute(sql`
    update summary_outbox
    set status = 'sent', sent_at = now(), claimed_by = null, claimed_until = null,
        last_error = ${note}
    where id = ${id}`);
}

export async function rescheduleSummary(
  db: DbOrTx,
  id: number,
  p: { delaySeconds: number; error: string; countAttempt: boolean },
): Promise<void> {
  await db.execute(sql`
    update summary_outbox
    set next_attempt_at = now() + make_interval(secs => ${p.delaySeconds}),
        attempts = case when ${p.countAttempt} then attempts else greatest(attempts - 1, 0) end,
        claimed_by = null, claimed_until = null, last_error = ${p.error}
    where id = ${id}`);
}

export async function markSummaryFailed(db: DbOrTx, id: number, error: string): Promise<void> {
  await db.execute(sql`
    update summary_outbox
    set status = 'failed', claimed_by = null, claimed_until = null, last_error = ${error}
    where id = ${id}`);
}

export async function releaseSummaryClaims(
  db: DbOrTx,
  ids: readonly number[],
  delaySeconds: number,
): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(sql`
    update summary_outbox
    set claimed_by = null, claimed_until = null,
        next_attempt_at = greatest(next_attempt_at, now() + make_interval(secs => ${delaySeconds}))
    where id in (${sql.join(
      ids.map((i) => sql`${i}`),
      sql`, `,
    )})`);
}

/** Every lease on a summary row; only for the embedded database at start (see releaseAllClaims). */
export async function releaseAllSummaryClaims(db: DbOrTx): Promise<number> {
  const rows = await execRows<{ id: unknown }>(
    db,
    sql`update summary_outbox set claimed_by = null, claimed_until = null
        where status = 'pending' and claimed_until is not null
        returning id`,
  );
  return rows.length;
}

/** Marks every pending summary delivered without posting it (demo data loaded at start). */
export async function markPendingSummariesDelivered(
  db: DbOrTx,
  p: { note: string },
): Promise<void> {
  await db.execute(sql`
    update summary_outbox set status = 'sent', sent_at = now(), last_error = ${p.note}
    where status = 'pending'`);
}

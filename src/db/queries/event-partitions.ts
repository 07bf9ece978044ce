import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

/**
 * A month in the default partition gets a partition of its own from this many events: below it,
 * one more table (its files, catalog entries, planning work) costs more than it saves. Migration
 * 0012 applies the same rule to the events it converts.
 */
export const SPLIT_MIN_ROWS = 1000;
/** DDL waits no longer than this for its lock, so it never queues ingest behind itself. */
const DDL_LOCK_TIMEOUT = "5s";

/** A UTC month as "YYYY-MM". */
export type Month = string;

const MONTH = /^(\d{4})-(\d{2})$/;

export function monthOf(ms: number): Month {
  return new Date(ms).toISOString().slice(0, 7);
}

export function monthStart(m: Month): number {
  const match = MONTH.exec(m);
  if (!match) throw new Error(`not a month: ${m}`);
  return Date.UTC(Number(match[1]), Number(match[2]) - 1, 1);
}

export function nextMonth(m: Month): Month {
  const start = new Date(monthStart(m));
  return monthOf(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

function partitionName(m: Month): string {
  if (!MONTH.test(m)) throw new Error(`not a month: ${m}`);
  return `events_${m.replace("-", "_")}`;
}

/** The monthly partitions that exist, oldest first. */
export async function monthlyPartitions(db: DbOrTx): Promise<Month[]> {
  const rows = await execRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'events'::regclass and c.relname ~ '^events_[0-9]{4}_[0-9]{2}$'
        order by 1`,
  );
  return rows.map((r) => r.name.slice(7).replace("_", "-"));
}

/** Events waiting in the default partition, per UTC month. */
export async function defaultPartitionMonths(
  db: DbOrTx,
): Promise<{ month: Month; rows: number }[]> {
  const rows = await execRows<{ month: string; n: number }>(
    db,
    sql`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM') as month, count(*)::int as n
        from events_default group by 1 order by 1`,
  );
  return rows.map((r) => ({ month: r.month, rows: Number(r.n) }));
}

/**
 * Gives a month its own partition, moving its events out of the default partition in the same
 * transaction (a partition cannot be attached while the default holds rows of its range). Takes
 * the weaker ATTACH lock on `events` rather than CREATE … PARTITION OF's exclusive one, so ingest
 * into other months goes on; returns how many events moved.
 */
export async function createMonthPartition(tx: DbOrTx, p: { month: Month }): Promise<number> {
  const name = partitionName(p.month);
  const from = new Date(monthStart(p.month)).toISOString();
  const to = new Date(monthStart(nextMonth(p.month))).toISOString();
  await tx.execute(sql.raw(`set local lock_timeout = '${DDL_LOCK_TIMEOUT}'`));
  await tx.execute(
    sql.raw(`create table "${name}" (like events including defaults including constraints)`),
  );
  // The check lets ATTACH skip proving the range over the moved rows.
  await tx.execute(
    sql.raw(
      `alter table "${name}" add constraint "${name}_range" check (occurred_at >= '${from}' and occurred_at < '${to}')`,
    ),
  );
  const [moved] = await execRows<{ n: number }>(
    tx,
    sql.raw(`with moved as (
        delete from events_default where occurred_at >= '${from}' and occurred_at < '${to}'
        returning id, lead_id, type, occurred_at, properties, received_at)
      , put as (insert into "${name}" (id, lead_id, type, occurred_at, properties, received_at)
        select * from moved returning 1)
      select count(*)::int as n from put`),
  );
  await tx.execute(
    sql.raw(
      `alter table events attach partition "${name}" for values from ('${from}') to ('${to}')`,
    ),
  );
  await tx.execute(sql.raw(`alter table "${name}" drop constraint "${name}_range"`));
  return Number(moved?.n ?? 0);
}

/** Detaches and drops a month's partition: its events are gone. */
export async function dropMonthPartition(tx: DbOrTx, p: { month: Month }): Promise<void> {
  const name = partitionName(p.month);
  await tx.execute(sql.raw(`set local lock_timeout = '${DDL_LOCK_TIMEOUT}'`));
  await tx.execute(sql.raw(`alter table events detach partition "${name}"`));
  await tx.execute(sql.raw(`drop table "${name}"`));
}

/**
 * Whether an event before `before` is still waiting for the scorer (its mark not yet taken):
 * such an event is not folded into its lead's activity yet, so its month must stay.
 */
export async function unscoredBefore(tx: DbOrTx, p: { before: number }): Promise<boolean> {
  const rows = await execRows<{ waiting: boolean }>(
    tx,
    sql`select exists (select 1 from event_marks m
          join events e on e.lead_id = m.lead_id and e.batch = m.batch
          where e.occurred_at < ${new Date(p.before).toISOString()}::timestamptz) as waiting`,
  );
  return rows[0]?.waiting === true;
}

/** Deletes the default partition's events before `before`; returns how many. */
export async function deleteDefaultBefore(tx: DbOrTx, p: { before: number }): Promise<number> {
  const rows = await execRows<{ n: number }>(
    tx,
    sql`with gone as (delete from events_default where occurred_at < ${new Date(p.before).toISOString()}::timestamptz returning 1)
        select count(*)::int as n from gone`,
  );
  return Number(rows[0]?.n ?? 0);
}

/** Records that events before `keptFrom` are gone; the mark only moves forward. */
export async function markEventsKeptFrom(tx: DbOrTx, p: { keptFrom: number }): Promise<void> {
  const at = new Date(p.keptFrom).toISOString();
  await tx.execute(
    sql`insert into event_retention (singleton, kept_from) values (true, ${at}::timestamptz)
        on conflict (singleton) do update set kept_from = greatest(event_retention.kept_from, excluded.kept_from),
          updated_at = now()`,
  );
}

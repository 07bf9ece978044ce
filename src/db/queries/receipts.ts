import { sql } from "drizzle-orm";
import { type DbOrTx, execRows } from "../client.js";

/** Records a Slack event's receipt; false when it was already received. */
export async function insertReceipt(db: DbOrTx, p: { eventId: string }): Promise<boolean> {
  const inserted = await execRows<{ event_id: string }>(
    db,
    sql`insert into slack_event_receipts (event_id) values (${p.eventId})
        on conflict (event_id) do nothing returning event_id`,
  );
  return inserted.length > 0;
}

export async function deleteReceipt(db: DbOrTx, p: { eventId: string }): Promise<void> {
  await db.execute(sql`delete from slack_event_receipts where event_id = ${p.eventId}`);
}

export async function sweepReceipts(db: DbOrTx, p: { olderThanHours: number }): Promise<void> {
  await db.execute(
    sql`delete from slack_event_receipts
        where received_at < now() - make_interval(hours => ${p.olderThanHours})`,
  );
}

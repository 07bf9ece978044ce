import { sql } from "drizzle-orm";
import type { Stage } from "../core/model.js";
import { type DbOrTx, execRows } from "../db/client.js";

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

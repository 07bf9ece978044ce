import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import { eventually, TEST_ALERT_CHANNEL } from "../support/slack.js";
import { type AppChild, startAppChild } from "./child.js";
import { findPgBin, type PgServer, startPgServer } from "./pg-server.js";

/**
 * SIGKILL between accepting events and committing their scores: the scorer's transaction had
 * claimed the marks and was scoring (held up on the lead's row lock) when the process died.
 * Postgres rolls it back, the marks come back, and the restarted app scores every event once.
 */

const API_TOKEN = "scorer-kill-test-token-0123456789";
const BIN = findPgBin();
const EMAIL = "kill@initech.com";
const TYPES = ["demo_request", "meeting_booked", "email_click", "email_open", "content_download"];

describe.skipIf(!BIN)(
  `scorer killed mid-scoring${BIN ? "" : " (skipped: no initdb under /usr/lib/postgresql/*/bin)"}`,
  () => {
    let pg: PgServer;
    let standin: SlackStandin;
    let app: AppChild | undefined;
    let sql: postgres.Sql;

    const env = () => ({
      DATABASE_URL: pg.url,
      LEADBOT_API_TOKEN: API_TOKEN,
      SLACK_BOT_TOKEN: "xoxb-scorer-kill",
      SLACK_SIGNING_SECRET: "scorer-kill-signing-secret",
      SLACK_API_URL: standin.url,
      LEADBOT_ALERT_CHANNEL: TEST_ALERT_CHANNEL,
    });

    beforeAll(async () => {
      pg = await startPgServer(BIN as string);
      standin = await SlackStandin.start();
      sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    }, 120_000);

    afterAll(async () => {
      if (app && app.proc.exitCode === null) app.proc.kill("SIGKILL");
      await sql?.end({ timeout: 5 });
      await standin?.close();
      await pg?.stop();
    });

    it("when the app is killed while scoring accepted events, then after a restart each is scored once and the crossing alerts once", async () => {
      app = await startAppChild(env());
      const base = app.base;
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${base}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const lead = await post("/api/v1/leads", {
        leads: [{ email: EMAIL, title: "VP Sales", industry: "Software", employees: 900 }],
      });
      expect(lead.status).toBe(200);
      const [row] = await sql<{ id: string }[]>`select id::text from leads where email = ${EMAIL}`;
      const leadId = Number(row?.id);

      // Hold the lead's row lock, as a long scoring elsewhere would: the scorer waits on it.
      const held = sql.reserve();
      const conn = await held;
      await conn`begin`;
      await conn`select 1 from leads where id = ${leadId} for no key update`;

      const events = TYPES.map((type, i) => ({
        id: `kill-${i}`,
        email: EMAIL,
        type,
        occurredAt: new Date().toISOString(),
      }));
      // Three requests: three inserts, three marks for the one lead.
      for (let i = 0; i < events.length; i += 2) {
        const res = await post("/api/v1/events", { events: events.slice(i, i + 2) });
        expect(res.body).toMatchObject({ scoring: "pending" });
      }
      // The scorer has claimed the marks and waits for the lead inside its transaction.
      await eventually(async () => {
        const [w] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and query like '%for no key update%'`;
        return (w?.n ?? 0) > 0 ? true : undefined;
      });
      app.proc.kill("SIGKILL");
      await app.exited;
      // The dead client's transaction ends when its backend next hears from it: a rollback.
      await conn`commit`;
      conn.release();
      await eventually(async () => {
        const [w] = await sql<{ n: number }[]>`select count(*)::int as n from pg_stat_activity
          where state <> 'idle' and query like '%for no key update%' and pid <> pg_backend_pid()`;
        return w?.n === 0 ? true : undefined;
      });
      const [marks] = await sql<{ n: number }[]>`select count(*)::int as n from event_marks`;
      expect(marks?.n).toBe(3);
      const [unscored] = await sql<{ n: number }[]>`select count(*)::int as n from lead_scores
        where lead_id = ${leadId} and activity->'rules' <> '{}'::jsonb`;
      expect(unscored?.n).toBe(0);

      app = await startAppChild(env());
      await eventually(async () => {
        const [m] = await sql<{ n: number }[]>`select count(*)::int as n from event_marks`;
        return m?.n === 0 ? true : undefined;
      }, 30_000);
      const [scored] = await sql<{ n: number; stage: string }[]>`
        select s.stage, (select coalesce(sum(jsonb_array_length(v)), 0)::int
          from jsonb_each(s.activity->'rules') as r(k, v)
          where k in ('demo_request', 'meeting_booked', 'email_click', 'email_open', 'content_download')) as n
        from lead_scores s where s.lead_id = ${leadId}`;
      expect(scored).toEqual({ n: TYPES.length, stage: "sql" });
      const alerts = await sql<{ stage: string }[]>`select stage from alert_outbox
        where lead_id = ${leadId}`;
      expect(alerts).toEqual([{ stage: "sql" }]);
      await eventually(() =>
        standin.messages(TEST_ALERT_CHANNEL).length === 1 ? true : undefined,
      );
    }, 300_000);
  },
);

import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { activityFromEvents } from "../../src/core/engine.js";
import type { ScoringModel } from "../../src/core/model.js";
import { SlackStandin } from "../../src/slack/local/standin/index.js";
import { eventually, TEST_ALERT_CHANNEL } from "../support/slack.js";
import { type AppChild, startAppChild } from "./child.js";
import { findPgBin, type PgServer, startPgServer } from "./pg-server.js";

/**
 * Postgres restarted (pg_ctl restart -m fast) while events stream in: the app reconnects and keeps
 * serving, every event it answered 200 for is stored once and scored once, each alert is posted
 * once, and the process is still alive afterwards.
 */

const API_TOKEN = "pg-restart-test-token-0123456789";
const BIN = findPgBin();
const LEADS = 6;
const TYPES = ["demo_request", "meeting_booked", "trial_start", "email_click", "page_view"];

describe.skipIf(!BIN)(
  `Postgres restarted under ingest${BIN ? "" : " (skipped: no initdb under /usr/lib/postgresql/*/bin)"}`,
  () => {
    let pg: PgServer;
    let standin: SlackStandin;
    let app: AppChild | undefined;

    beforeAll(async () => {
      pg = await startPgServer(BIN as string);
      standin = await SlackStandin.start();
    }, 120_000);

    afterAll(async () => {
      if (app && app.proc.exitCode === null) {
        app.proc.kill("SIGTERM");
        await Promise.race([app.exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (app.proc.exitCode === null) app.proc.kill("SIGKILL");
      }
      await standin?.close();
      await pg?.stop();
    });

    it("when Postgres restarts mid-ingest, then the app reconnects, keeps every accepted event once and posts each alert once", async () => {
      app = await startAppChild({
        DATABASE_URL: pg.url,
        LEADBOT_API_TOKEN: API_TOKEN,
        SLACK_BOT_TOKEN: "xoxb-pg-restart",
        SLACK_SIGNING_SECRET: "pg-restart-signing-secret",
        SLACK_API_URL: standin.url,
        LEADBOT_ALERT_CHANNEL: TEST_ALERT_CHANNEL,
      });
      const child = app;
      const post = async (path: string, body: unknown) => {
        try {
          const res = await fetch(`${child.base}${path}`, {
            method: "POST",
            headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
            body: JSON.stringify(body),
            signal: AbortSignal.timeout(10_000),
          });
          return res.status;
        } catch {
          return 0;
        }
      };
      const leads = Array.from({ length: LEADS }, (_, i) => ({
        email: `restart${i}@acme.com`,
        firstName: `Restart ${i}`,
        title: "VP Sales",
        company: "Acme",
        industry: "Software",
        employees: 900,
        country: "US",
      }));
      expect(await post("/api/v1/leads", { leads })).toBe(200);

      const accepted: string[] = [];
      const statuses = new Map<number, number>();
      let n = 0;
      const send = async () => {
        n += 1;
        const id = `restart-ev-${n}`;
        const status = await post("/api/v1/events", {
          events: [
            {
              id,
              email: `restart${n % LEADS}@acme.com`,
              type: TYPES[n % TYPES.length],
              occurredAt: new Date().toISOString(),
            },
          ],
        });
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) accepted.push(id);
        return status;
      };

      for (let i = 0; i < 20; i++) await send();
      let restarted = false;
      const restart = pg.restart().then(() => {
        restarted = true;
      });
      while (!restarted) await send();
      await restart;
      // After the restart the app must come back: keep sending until 20 more are accepted.
      let after = 0;
      const until = Date.now() + 60_000;
      while (after < 20) {
        expect(Date.now()).toBeLessThan(until);
        if ((await send()) === 200) after += 1;
      }
      expect([...statuses.keys()].every((s) => s === 200 || s === 0 || s >= 500 || s === 503)).toBe(
        true,
      );

      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        const rows = await sql<
          { id: string }[]
        >`select id from events where id like 'restart-ev-%'`;
        const stored = new Set(rows.map((r) => r.id));
        expect(rows.length).toBe(stored.size);
        for (const id of accepted) expect(stored.has(id), id).toBe(true);

        // Every alert reaches the channel, and once. A row whose post was made while the database
        // was down may stay claimed until its lease ends; its metadata then reconciles it.
        const postsOf = () =>
          standin
            .messages(TEST_ALERT_CHANNEL)
            .map((m) => String(m.metadata?.event_payload.alert_id));
        const alerts = await eventually(async () => {
          const a = await sql<{ id: string }[]>`select id::text from alert_outbox`;
          const posted = new Set(postsOf());
          return a.length > 0 && a.every((r) => posted.has(r.id)) ? a : undefined;
        }, 60_000);
        // Every accepted event is scored once: each lead's stored activity is its events' own.
        await eventually(async () => {
          const [m] = await sql<{ n: number }[]>`select count(*)::int as n from event_marks`;
          return m?.n === 0 ? true : undefined;
        }, 60_000);
        const [model] = await sql<{ definition: ScoringModel }[]>`
          select definition from models order by version desc limit 1`;
        const scores = await sql<{ id: string; activity: unknown }[]>`
          select lead_id::text as id, activity from lead_scores`;
        for (const s of scores) {
          const evs = await sql<
            { type: string; at: number; properties: Record<string, unknown> }[]
          >`
            select type, (extract(epoch from occurred_at) * 1000)::float8 as at, properties
            from events where lead_id = ${s.id}`;
          expect(s.activity, `lead ${s.id}`).toEqual(
            activityFromEvents(evs, model?.definition as ScoringModel),
          );
        }
        const posts = postsOf();
        for (const a of alerts) {
          expect(
            posts.filter((p) => p === a.id),
            `alert ${a.id}`,
          ).toHaveLength(1);
        }
        expect(posts).toHaveLength(alerts.length);
      } finally {
        await sql.end({ timeout: 5 });
      }

      expect(child.proc.exitCode).toBeNull();
      expect((await fetch(`${child.base}/healthz`)).status).toBe(200);
    }, 240_000);
  },
);

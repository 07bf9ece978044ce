import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRows } from "../../src/db/client.js";
import { type TestDatabase, testDatabases, withDatabase } from "../support/db.js";
import {
  eventually,
  hotLeadAlert,
  type SlackHarness,
  startSlackHarness,
  TEST_ALERT_CHANNEL,
  TEST_REP,
} from "../support/slack.js";

/**
 * Erasure through the real app: a lead with an alert in the channel and a DM to its owner is
 * erased over the API; afterwards no table and no Slack message holds its email, name or company,
 * and later data about the person is dropped and counted until it is un-suppressed.
 */

const PERSON = {
  email: "zelda.quist@erasure-corp.example",
  lastName: "Quistwhistle",
  company: "Erasurecorp Holdings",
};
const NEEDLES = [PERSON.email, PERSON.lastName, PERSON.company, "erasure-corp"];

describe.each(testDatabases())("erasure that reaches everywhere on $name", (config) => {
  let tdb: TestDatabase;
  let h: SlackHarness;
  let leadId: number;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${h.apiToken}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Every row of every table in the schema, as JSON text, by table. */
  const everyRow = async (): Promise<Map<string, string[]>> => {
    const db = tdb.database.db;
    const tables = await execRows<{ name: string }>(
      db,
      sql`select tablename as name from pg_tables where schemaname = 'public' order by 1`,
    );
    const out = new Map<string, string[]>();
    for (const { name } of tables) {
      const rows = await execRows<{ row: string }>(
        db,
        sql.raw(`select row_to_json(t)::text as row from "${name}" t`),
      );
      out.set(
        name,
        rows.map((r) => r.row),
      );
    }
    return out;
  };

  beforeAll(async () => {
    tdb = await withDatabase(config);
    h = await startSlackHarness({ database: tdb.database });
    const hot = await hotLeadAlert(h.app.services, h.standin, { ...PERSON, owner: TEST_REP });
    leadId = hot.leadId;
    await hotLeadAlert(h.app.services, h.standin, {
      email: "bystander@other.example",
      lastName: "Bystander",
      company: "Othercorp",
    });
    // The owner's DM goes out in the same delivery as the channel post.
    await eventually(() =>
      h.standin.messages(h.standin.dmChannel(TEST_REP)).length > 0 ? true : undefined,
    );
    await h.app.services.leads.recordOutcome({
      lead: PERSON.email,
      outcome: "lost",
      reason: "other",
      note: `${PERSON.lastName} chose a rival`,
      by: TEST_REP,
      source: "api",
    });
  });

  afterAll(async () => {
    await h?.stop();
    await tdb?.cleanup();
  });

  it("when the lead exists, then its data is in the store and in Slack (the test's own control)", async () => {
    const rows = [...(await everyRow()).values()].flat().join("\n");
    expect(rows).toContain(PERSON.email);
    const slack = JSON.stringify(h.standin.allMessages());
    expect(slack).toContain(PERSON.lastName);
  });

  it("when the lead is erased over the API, then its alert and DM are rewritten and no message in Slack names it", async () => {
    h.standin.failNext("chat.update", { status: 429, retryAfter: 1 });
    const res = await call("DELETE", `/api/v1/leads/${encodeURIComponent(PERSON.email)}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ erased: leadId, messagesRewritten: 2 });

    await eventually(async () => {
      const [row] = await execRows<{ n: number }>(
        tdb.database.db,
        sql`select count(*)::int as n from erasure_outbox where status = 'sent'`,
      );
      return Number(row?.n) === 2 ? true : undefined;
    }, 20_000);
    // The rate limit was honoured and retried, not dropped.
    expect(h.standin.callsTo("chat.update").length).toBeGreaterThanOrEqual(3);

    const all = h.standin.allMessages();
    for (const m of all) {
      const text = JSON.stringify(m);
      for (const needle of NEEDLES) expect(text).not.toContain(needle);
    }
    const channel = h.standin.messages(TEST_ALERT_CHANNEL);
    expect(channel.filter((m) => m.text.startsWith("Erased lead"))).toHaveLength(1);
    expect(channel.some((m) => m.text.includes("Bystander"))).toBe(true);
    const dm = h.standin.messages(h.standin.dmChannel(TEST_REP));
    expect(dm.map((m) => m.text)).toEqual([expect.stringMatching(/^Erased lead/)]);
    expect(dm[0]?.metadata?.event_type).toBe("leadbot_erasure");
  });

  it("when every table is read after erasure, then none holds the email, name or company, and no row but the erasure's own points at its id", async () => {
    const tables = await everyRow();
    expect(tables.has("suppressions")).toBe(true);
    for (const [table, rows] of tables) {
      for (const row of rows) {
        for (const needle of NEEDLES) {
          if (row.includes(needle)) throw new Error(`${table} still holds "${needle}": ${row}`);
        }
      }
    }
    // Nor does any row still point at the erased lead: score history included, which keeps no
    // foreign key and is deleted by a trigger on leads.
    const keyed = await execRows<{ name: string }>(
      tdb.database.db,
      sql`select table_name as name from information_schema.columns
          where table_schema = 'public' and column_name = 'lead_id' order by 1`,
    );
    expect(keyed.map((k) => k.name)).toContain("score_history");
    const left: Record<string, number> = {};
    for (const { name } of keyed) {
      const [row] = await execRows<{ n: number }>(
        tdb.database.db,
        sql.raw(`select count(*)::int as n from "${name}" where lead_id = ${Number(leadId)}`),
      );
      left[name] = row?.n ?? 0;
    }
    // The erasure's own work items name the id they rewrote messages for, and nothing else.
    expect(Object.entries(left).filter(([name, n]) => n > 0 && name !== "erasure_outbox")).toEqual(
      [],
    );
    const audit = await execRows<{ actor: string; subject: string; details: { hashes: string[] } }>(
      tdb.database.db,
      sql`select actor, subject, details from audit_log where action = 'lead.erased'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.subject).toBe(`lead:${leadId}`);
    expect(audit[0]?.details.hashes).toHaveLength(1);
    expect(audit[0]?.details.hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    // The generated key is kept so every instance hashes alike; the table holds hashes only.
    const [secret] = await execRows<{ n: number }>(
      tdb.database.db,
      sql`select count(*)::int as n from app_secrets where name = 'suppression_key'`,
    );
    expect(Number(secret?.n)).toBe(1);
  });

  it("when later events, upserts and Segment calls name the erased person, then they are dropped and counted", async () => {
    const events = await call("POST", "/api/v1/events", {
      events: [
        {
          id: "after-erase-1",
          email: PERSON.email.toUpperCase(),
          type: "page_view",
          occurredAt: new Date(h.app.services.clock()).toISOString(),
        },
        {
          id: "after-erase-2",
          email: "someone.new@fresh.example",
          type: "page_view",
          occurredAt: new Date(h.app.services.clock()).toISOString(),
        },
      ],
    });
    expect(events.status).toBe(200);
    expect(events.body).toMatchObject({ accepted: 1, suppressed: 1, leadsCreated: 1 });

    const leads = await call("POST", "/api/v1/leads", {
      leads: [{ email: PERSON.email, lastName: PERSON.lastName }],
    });
    expect(leads.body).toMatchObject({ created: 0, suppressed: 1, errors: [] });

    const segment = await call("POST", "/api/v1/segment", {
      type: "identify",
      userId: "seg-user-1",
      traits: { email: PERSON.email, company: PERSON.company },
    });
    expect(segment.body).toMatchObject({ leads: 0, suppressed: 1 });

    expect((await call("GET", `/api/v1/leads/${encodeURIComponent(PERSON.email)}`)).status).toBe(
      404,
    );
    const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/leadbot_ingested_items_total\{kind="event",result="suppressed"\} 1/);
    expect(metrics).toMatch(/leadbot_ingested_items_total\{kind="lead",result="suppressed"\} 1/);
  });

  it("when the person is un-suppressed, then the audit says so without the email and their data is stored again", async () => {
    const lifted = await h.app.services.leads.unsuppress(PERSON.email, "cli");
    expect(lifted.removed).toBe(1);
    await expect(h.app.services.leads.unsuppress(PERSON.email, "cli")).rejects.toThrow(
      /is suppressed/,
    );
    const audit = await execRows<{ actor: string; details: unknown }>(
      tdb.database.db,
      sql`select actor, details from audit_log where action = 'lead.unsuppressed'`,
    );
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(PERSON.email);
    const again = await call("POST", "/api/v1/leads", { leads: [{ email: PERSON.email }] });
    expect(again.body).toMatchObject({ created: 1, suppressed: 0 });
  });

  it("when a lead named only by externalId is erased with ext:, then that externalId is suppressed", async () => {
    await call("POST", "/api/v1/leads", { leads: [{ externalId: "crm-erase-7", company: "X" }] });
    expect((await call("DELETE", "/api/v1/leads/ext:crm-erase-7")).status).toBe(200);
    const back = await call("POST", "/api/v1/leads", {
      leads: [{ externalId: "crm-erase-7" }, { externalId: "crm-keep-8" }],
    });
    expect(back.body).toMatchObject({ created: 1, suppressed: 1 });
  });

  it("when a lead is erased while its alert is being posted, then that late post is rewritten too", async () => {
    const email = "late.lucius@inflight.example";
    h.standin.failNext("chat.postMessage", { hangMs: 2_000 });
    const before = h.standin.callsTo("chat.postMessage").length;
    const posted = h.standin.messages(TEST_ALERT_CHANNEL).length;
    await h.app.services.upsertLeads([
      {
        email,
        firstName: "Lucius",
        lastName: "Inflight",
        title: "VP Sales",
        company: "Midair Ltd",
        industry: "Software",
        employees: 900,
        country: "US",
      },
    ]);
    const now = new Date(h.app.services.clock()).toISOString();
    const r = await h.app.services.recordEvents(
      ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
        id: `${email}-${i}`,
        email,
        type,
        occurredAt: now,
      })),
    );
    expect(r.errors).toEqual([]);
    await h.app.services.scoring.flush();
    expect((await h.app.services.leads.get(email)).stage).not.toBe("lead");
    // The post has reached Slack and hangs there: erase now, before Leadbot hears back.
    await eventually(() =>
      h.standin.callsTo("chat.postMessage").length > before ? true : undefined,
    );
    const erased = await call("DELETE", `/api/v1/leads/${encodeURIComponent(email)}`);
    expect(erased.status).toBe(200);

    // Done when the late post has landed and nothing in Slack names the lead any more.
    const rewritten = await eventually(() => {
      if (h.standin.messages(TEST_ALERT_CHANNEL).length <= posted) return undefined;
      const all = h.standin.allMessages();
      return all.some((m) => JSON.stringify(m).includes("Inflight")) ? undefined : all;
    }, 30_000);
    expect(JSON.stringify(rewritten)).not.toContain("Midair");
  });
});

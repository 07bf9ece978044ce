import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { messagesOfKind } from "../../../src/db/queries/outbox.js";
import { silentLogger } from "../../../src/lib/logger.js";
import { createServices, type Services } from "../../../src/services/index.js";
import { ensureModel } from "../../../src/services/models.js";
import {
  createWebhookDispatcher,
  signWebhook,
  type WebhookBody,
} from "../../../src/services/outbox/webhook.js";
import { type TestDatabase, testDatabases, withDatabase } from "../../support/db.js";

const SECRET = "webhook-secret-for-tests-0001";
const ADMIN = "U0ADMIN001";
const MANAGER = "U0MANAGER1";
const NOW = Date.parse("2026-11-20T12:00:00Z");

interface Received {
  status: number;
  body: WebhookBody;
  verified: boolean;
}

/** A CRM stand-in: verifies each signature as a receiver would, answers with the next status. */
function startReceiver(statuses: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const ts = String(req.headers["x-leadbot-request-timestamp"] ?? "");
      const sig = String(req.headers["x-leadbot-signature"] ?? "");
      const expected = signWebhook(SECRET, ts, raw);
      const verified =
        sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
      const status = statuses.shift() ?? 200;
      received.push({ status, body: JSON.parse(raw) as WebhookBody, verified });
      res.writeHead(verified ? status : 401).end();
    });
  });
  return new Promise<{ url: string; received: Received[]; close(): Promise<void> }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/hooks/leadbot`,
        received,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

for (const config of testDatabases()) {
  describe(`signed webhooks on ${config.name}`, () => {
    let t: TestDatabase;
    let services: Services;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;

    beforeAll(async () => {
      t = await withDatabase(config);
      await ensureModel(t.database.db);
      services = createServices({
        database: t.database,
        logger: silentLogger,
        clock: () => NOW,
        admins: [ADMIN],
      });
      receiver = await startReceiver([500]);
    });
    afterAll(async () => {
      await receiver?.close();
      await t?.cleanup();
    });

    it("when a lead crosses a threshold, gets an outcome and a model is activated, then each webhook arrives signed, once, after a 500 is retried", async () => {
      const dispatcher = createWebhookDispatcher({
        db: t.database.db,
        url: receiver.url,
        secret: SECRET,
        instanceId: "test",
        logger: silentLogger,
        clock: () => NOW,
        random: () => 0,
      });
      // The first run sets the cursors: what happened before webhooks were on is not replayed.
      expect(await dispatcher.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });

      const email = "hot@acme.example";
      await services.upsertLeads([
        {
          email,
          externalId: "crm-42",
          title: "VP Sales",
          industry: "Software",
          employees: 900,
          country: "US",
        },
      ]);
      const events = await services.recordEvents(
        ["demo_request", "meeting_booked", "trial_start"].map((type, i) => ({
          id: `hot-${i}`,
          email,
          type,
          occurredAt: new Date(NOW).toISOString(),
        })),
      );
      expect(events.errors).toEqual([]);
      expect((await services.scoring.flush()).alerts).toBeGreaterThan(0);
      await services.leads.recordOutcome({
        lead: email,
        outcome: "won",
        by: MANAGER,
        source: "api",
      });
      await services.team.grantRole({ by: ADMIN, userId: MANAGER, role: "manager" });
      const { proposal } = await services.proposals.create({
        change: { kind: "thresholds", thresholds: { mql: 45 } },
        by: MANAGER,
      });
      await services.proposals.decide({ id: proposal.id, by: ADMIN, decision: "approve" });

      const first = await dispatcher.runOnce();
      expect(first.retried).toBe(1);
      expect(receiver.received[0]?.status).toBe(500);
      // Backoff with no jitter: the failed row is due again after a second, the rest after two.
      const until = Date.now() + 15_000;
      let rows = await messagesOfKind(t.database.db, { kind: "webhook" });
      while (rows.some((r) => r.status === "pending") && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        await dispatcher.runOnce();
        rows = await messagesOfKind(t.database.db, { kind: "webhook" });
      }
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(rows.every((r) => r.status === "sent")).toBe(true);
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      const accepted = receiver.received.filter((r) => r.status === 200).map((r) => r.body);
      expect(accepted.map((b) => b.id).sort()).toEqual(rows.map((r) => r.key).sort());
      expect(new Set(accepted.map((b) => b.id)).size).toBe(accepted.length);
      // The row that met the 500 came again and was accepted once.
      expect(accepted.filter((b) => b.id === receiver.received[0]?.body.id)).toHaveLength(1);

      const stage = accepted.find((b) => b.type === "lead.stage_changed");
      expect(stage?.data).toMatchObject({
        lead: { email, externalId: "crm-42" },
        from: "lead",
      });
      const lead = stage?.data.lead as { score?: unknown } | undefined;
      expect(typeof lead?.score).toBe("number");
      expect(accepted.find((b) => b.type === "lead.outcome")?.data).toMatchObject({
        lead: { email, externalId: "crm-42" },
        outcome: "won",
      });
      expect(accepted.find((b) => b.type === "model.activated")?.data).toMatchObject({
        version: 2,
        proposalId: proposal.id,
      });
      expect(stage?.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const again = await dispatcher.runOnce();
      expect(again).toEqual({ sent: 0, retried: 0, failed: 0 });
    }, 60_000);

    it("when the receiver answers 4xx, then the row fails at once and is not resent", async () => {
      const bad = await startReceiver([404]);
      try {
        const dispatcher = createWebhookDispatcher({
          db: t.database.db,
          url: bad.url,
          secret: SECRET,
          instanceId: "test-404",
          logger: silentLogger,
          random: () => 0,
        });
        await services.leads.recordOutcome({
          lead: "hot@acme.example",
          outcome: "lost",
          by: MANAGER,
          source: "api",
          reason: "price",
        });
        expect(await dispatcher.runOnce()).toEqual({ sent: 0, retried: 0, failed: 1 });
        expect(await dispatcher.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0 });
        expect(bad.received).toHaveLength(1);
        const rows = await messagesOfKind(t.database.db, { kind: "webhook" });
        expect(rows.filter((r) => r.status === "failed").map((r) => r.key)).toEqual([
          bad.received[0]?.body.id,
        ]);
      } finally {
        await bad.close();
      }
    }, 30_000);
  });
}

import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { loadDemoData } from "../../src/demo/index.js";
import { silentLogger } from "../../src/lib/logger.js";
import { fitsInFlight } from "../../src/services/fit/index.js";
import { testDatabases, withDatabase } from "../support/db.js";

const TOKEN = "bootstrap-token-for-tests-0001";
const NOW = Date.parse("2026-11-20T12:00:00Z");

for (const config of testDatabases()) {
  describe(`POST /api/v1/suggestions on ${config.name}`, () => {
    let app: Leadbot;
    let base: string;
    let cleanup: () => Promise<void>;

    /** A fresh connection per call: the fit keeps the loop busy past the keep-alive timeout. */
    const post = (body?: unknown) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const text = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          `${base}/api/v1/suggestions`,
          {
            method: "POST",
            agent: false,
            headers: {
              authorization: `Bearer ${TOKEN}`,
              ...(text !== undefined
                ? { "content-type": "application/json", "content-length": Buffer.byteLength(text) }
                : {}),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>,
              }),
            );
          },
        );
        req.on("error", reject);
        req.end(text);
      });

    beforeAll(async () => {
      const opened = await withDatabase(config);
      cleanup = opened.cleanup;
      app = await startLeadbot({
        env: loadEnv({
          PORT: "0",
          LEADBOT_API_TOKEN: TOKEN,
          LEADBOT_DEMO: "off",
          LEADBOT_DECAY_CRON: "off",
        }),
        logger: silentLogger,
        clock: () => NOW,
        database: opened.database,
      });
      base = `http://127.0.0.1:${app.port}`;
    });
    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    it("when there are too few outcomes, then it answers 422 with how many won and lost it needs and has", async () => {
      await loadDemoData(app.services, { seed: 5, leads: 150 });
      const r = await post();
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ error: "not_enough_data", need: { won: 30, notWon: 30 } });
      const have = r.body.have as { won: number; notWon: number };
      expect(r.body.message).toBe(
        `A suggestion needs 30 won and 30 lost or not a fit; there are ${have.won} and ${have.notWon}, so ${[
          have.won < 30 ? `${30 - have.won} more won` : "",
          have.notWon < 30 ? `${30 - have.notWon} more lost or not a fit` : "",
        ]
          .filter(Boolean)
          .join(" and ")} are needed.`,
      );
      expect(await app.services.proposals.pending()).toEqual([]);
    }, 60_000);

    it("when the body is not the expected shape, then it answers 400 and proposes nothing", async () => {
      const r = await post({ dryRun: "yes" });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_body");
    });

    it("when there are enough outcomes, then it answers 201 with a pending model proposal, its backtest and evidence", async () => {
      await loadDemoData(app.services, { seed: 3, leads: 2_500 });
      const r = await post({ by: "U0MANAGER1" });
      expect(r.status).toBe(201);
      const proposal = r.body.proposal as {
        id: number;
        kind: string;
        status: string;
        proposedBy: string;
      };
      expect(proposal).toMatchObject({
        kind: "model",
        status: "pending",
        proposedBy: "U0MANAGER1",
      });
      const backtest = r.body.backtest as { current: { auc: number }; suggested: { auc: number } };
      expect(backtest.suggested.auc).toBeGreaterThan(0.5);
      expect(typeof backtest.current.auc).toBe("number");
      expect((r.body.evidence as unknown[]).length).toBeGreaterThan(0);
      const pending = await app.services.proposals.pending();
      expect(pending.map((p) => p.id)).toEqual([proposal.id]);
      expect(await app.services.suggestions.learned(proposal.id)).toMatchObject({ backtest });
    }, 240_000);

    it("when a fit is running, then the same server still answers /healthz before the fit ends", async () => {
      const health = () =>
        new Promise<number>((resolve, reject) => {
          const req = request(`${base}/healthz`, { agent: false }, (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          });
          req.on("error", reject);
          req.end();
        });
      const events: string[] = [];
      const fit = post({ dryRun: true }).then((r) => {
        events.push("fit answered");
        return r;
      });
      // The request reads the outcomes first; then its fit runs in the worker.
      while (!fitsInFlight().running && events.length === 0)
        await new Promise((r) => setTimeout(r, 20));
      expect(await health()).toBe(200);
      events.push("healthz answered");
      expect((await fit).status).toBe(200);
      expect(events).toEqual(["healthz answered", "fit answered"]);
    }, 120_000);

    it("when asked for a dry run, then it answers 200 with the backtest and stores no proposal", async () => {
      const before = (await app.services.proposals.pending()).length;
      const r = await post({ dryRun: true });
      expect(r.status).toBe(200);
      expect(r.body.proposal).toBeNull();
      expect(r.body.backtest).toBeTruthy();
      expect((await app.services.proposals.pending()).length).toBe(before);
    }, 120_000);
  });
}

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import { silentLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";

const TOKEN = "bootstrap-token-for-lead-keys-01";
const NOW = Date.parse("2026-11-20T12:00:00Z");

for (const config of testDatabases()) {
  describe(`lead keys through the API on ${config.name}`, () => {
    let app: Leadbot;
    let base: string;
    let cleanup: () => Promise<void>;
    /** Internal id of the lead that holds externalId "42"; another lead has internal id 42. */
    let extLeadId: number;

    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

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
      // Fifty leads, so internal id 42 exists; the last one carries the CRM's externalId "42".
      const leads = Array.from({ length: 50 }, (_, i) => ({ email: `p${i + 1}@keys.example` }));
      const res = await call("POST", "/api/v1/leads", {
        leads: [...leads, { email: "crm@keys.example", externalId: "42" }],
      });
      expect(res.status).toBe(200);
      extLeadId = Number((await call("GET", "/api/v1/leads/crm@keys.example")).body.id);
      expect(extLeadId).not.toBe(42);
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    it("when a bare key of digits matches an externalId, then the externalId wins over the internal id", async () => {
      const res = await call("GET", "/api/v1/leads/42");
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: extLeadId, externalId: "42" });
    });

    it("when the key is id:42, then it is the internal id", async () => {
      const res = await call("GET", "/api/v1/leads/id:42");
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(42);
      expect(res.body.externalId).toBeNull();
    });

    it("when the key is ext:42, then it is the externalId", async () => {
      const res = await call("GET", "/api/v1/leads/ext:42");
      expect(res.body).toMatchObject({ id: extLeadId, email: "crm@keys.example" });
    });

    it("when the key is an email, then it is the email, whatever its case", async () => {
      const res = await call("GET", `/api/v1/leads/${encodeURIComponent("P7@Keys.Example")}`);
      expect(res.body).toMatchObject({ email: "p7@keys.example" });
    });

    it("when a bare key of digits matches no externalId, then it is the internal id", async () => {
      const res = await call("GET", "/api/v1/leads/7");
      expect(res.body).toMatchObject({ id: 7, email: "p7@keys.example" });
    });

    it("when the key matches nothing, then it is a 404 that names the forms", async () => {
      const res = await call("GET", "/api/v1/leads/ext:nobody");
      expect(res.status).toBe(404);
      expect(String(res.body.message)).toContain("id:");
      expect((await call("GET", "/api/v1/leads/id:abc")).status).toBe(400);
    });

    it("when a key or a search holds NUL, then it is a 400 that names what to remove", async () => {
      const outcome = await call("POST", "/api/v1/outcomes", {
        outcomes: [{ lead: "ext:crm\u00001", outcome: "won" }],
      });
      expect(outcome.status).toBeLessThan(500);
      expect(JSON.stringify(outcome.body)).toContain("must not contain NUL");
      for (const query of ["q=a%00b", "owner=U1%00"]) {
        const res = await call("GET", `/api/v1/leads?${query}`);
        expect(res.status).toBe(400);
        expect(String(res.body.message)).toContain("must not contain NUL");
      }
    });

    it("when DELETE names a lead by a bare key, then it is a 400 that says which forms to use and nobody is erased", async () => {
      const res = await call("DELETE", "/api/v1/leads/42");
      expect(res.status).toBe(400);
      expect(res.body.error).toBe("invalid_lead_key");
      expect(String(res.body.message)).toMatch(/an email, id:.* or ext:/);
      expect((await call("GET", "/api/v1/leads/id:42")).status).toBe(200);
      expect((await call("GET", "/api/v1/leads/ext:42")).status).toBe(200);
    });

    it("when DELETE names ext:42, then the CRM's lead is erased and internal id 42 is untouched", async () => {
      const res = await call("DELETE", "/api/v1/leads/ext:42");
      expect(res.status).toBe(200);
      expect(res.body.erased).toBe(extLeadId);
      expect((await call("GET", "/api/v1/leads/ext:42")).status).toBe(404);
      expect((await call("GET", "/api/v1/leads/id:42")).body).toMatchObject({
        email: "p42@keys.example",
      });
    });

    it("when DELETE names a lead by id:, then that lead is the one erased", async () => {
      const res = await fetch(`${base}/api/v1/leads/id:3`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(200);
      expect((await call("GET", "/api/v1/leads/p3@keys.example")).status).toBe(404);
    });
  });
}

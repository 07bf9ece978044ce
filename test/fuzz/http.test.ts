import { request } from "node:http";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Leadbot, startLeadbot } from "../../src/app.js";
import { loadEnv } from "../../src/config/env.js";
import type { Database } from "../../src/db/client.js";
import { execRows } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";

/**
 * Properties over everything a client controls on the HTTP API: the path, the query string and
 * the body. Every input ends in a status below 500 with a sentence, or stored items, and the
 * rows that change are exactly the ones the answer reports.
 */

const TOKEN = "fuzz-token-for-tests-000000001";
const NOW = Date.parse("2026-11-20T12:00:00Z");
/** Enough runs to reach the odd corners each CI run, few enough to keep the suite quick. */
const RUNS = 150;

function raw(
  port: number,
  method: string,
  target: string,
  body?: string,
  contentType = "application/json",
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: target,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined
            ? { "content-type": contentType, "content-length": Buffer.byteLength(body) }
            : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (b: Buffer) => {
          text += b.toString("utf8");
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Characters that break naive path handling: escapes, separators, dots, controls, non-ASCII. */
const pathChar = fc.constantFrom(
  ..."abcXYZ019-_.~%/?#&=+:@!$'()*,;[] \\\t\u00e9\u4e2d".split(""),
  "\ud83d\ude00",
  "%FF",
  "%00",
  "%2F",
  "%E0%A4%A",
  "%%",
  "..",
  "//",
);

for (const config of testDatabases()) {
  describe(`HTTP API under fuzzed input on ${config.name}`, () => {
    let app: Leadbot;
    let database: Database;
    let cleanup: () => Promise<void>;

    const count = async (table: "leads" | "events") => {
      const [row] = await execRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from ${sql.identifier(table)}`,
      );
      return row?.n ?? 0;
    };

    beforeAll(async () => {
      const opened = await withDatabase(config);
      database = opened.database;
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
        database,
      });
    });

    afterAll(async () => {
      await app?.stop();
      await cleanup?.();
    });

    it("when any path and query string is requested with any method, then the answer is below 500 with a sentence", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "DELETE", "POST", "PUT", "PATCH"),
          fc.constantFrom("/api/v1/leads/", "/api/v1/leads", "/api/v1/", "/", "/healthz", "//"),
          fc.array(pathChar, { maxLength: 30 }).map((cs) => cs.join("")),
          async (method, prefix, tail) => {
            // Node's client refuses raw non-ASCII and controls; the raw-socket suite sends those.
            const target = `${prefix}${tail}`.replace(/[^!-~]|#/gu, (c) => encodeURIComponent(c));
            const res = await raw(app.port, method, target, method === "POST" ? "{}" : undefined);
            expect(res.status).toBeGreaterThanOrEqual(200);
            expect(res.status).toBeLessThan(500);
            if (res.status >= 400) {
              const body = JSON.parse(res.text) as { message?: unknown };
              expect(typeof body.message).toBe("string");
            }
          },
        ),
        { numRuns: RUNS },
      );
      expect((await raw(app.port, "GET", "/healthz")).status).toBe(200);
    });

    it("when any JSON body is posted to an ingest route, then it is refused whole or stored item by item, and the counts agree", async () => {
      const event = fc.record(
        {
          id: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)),
          email: fc.oneof(
            fc.emailAddress(),
            fc.string({ maxLength: 12, unit: "binary" }),
            fc.constant(`${"a".repeat(250)}@x.io`),
          ),
          type: fc.constantFrom("page_view", "demo_request", "Demo Requested", "", "x".repeat(80)),
          occurredAt: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string({ maxLength: 10 }),
          ),
          properties: fc.oneof(
            fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()),
            fc.string(),
          ),
        },
        { requiredKeys: [] },
      );
      const body = fc.oneof(
        fc.record({ events: fc.array(event, { maxLength: 6 }) }).map((b) => JSON.stringify(b)),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 40 }),
      );
      await fc.assert(
        fc.asyncProperty(body, async (text) => {
          const before = await count("events");
          const res = await raw(app.port, "POST", "/api/v1/events", text);
          const after = await count("events");
          expect([200, 400, 413, 422]).toContain(res.status);
          const answer = JSON.parse(res.text) as { accepted?: number; message?: string };
          if (res.status === 200) expect(after - before).toBe(answer.accepted);
          else {
            expect(after).toBe(before);
            expect(
              typeof answer.message === "string" ||
                Array.isArray((answer as { errors?: unknown }).errors),
            ).toBe(true);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it("when any JSON body is posted as leads or Segment messages, then nothing answers 500 and refused batches store nothing", async () => {
      const lead = fc.record(
        {
          email: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 12 })),
          externalId: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
          firstName: fc.oneof(
            fc.string({ maxLength: 20, unit: "binary" }),
            fc.constant("<!channel>"),
          ),
          employees: fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.double()),
          attributes: fc.dictionary(fc.string({ maxLength: 5, unit: "binary" }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      );
      const segment = fc.record(
        {
          type: fc.constantFrom("identify", "track", "page", "alias", "", 5),
          messageId: fc.string({ maxLength: 8 }),
          userId: fc.oneof(fc.emailAddress(), fc.string({ maxLength: 8 })),
          event: fc.string({ maxLength: 20 }),
          timestamp: fc.oneof(
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
            fc.string(),
          ),
          traits: fc.dictionary(fc.string({ maxLength: 5, unit: "binary" }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      );
      const input = fc.oneof(
        fc.tuple(
          fc.constant("/api/v1/leads"),
          fc.record({ leads: fc.array(lead, { maxLength: 5 }) }),
        ),
        fc.tuple(
          fc.constant("/api/v1/segment"),
          fc.record({ batch: fc.array(segment, { maxLength: 5 }) }),
        ),
        fc.tuple(fc.constant("/api/v1/segment"), segment),
        fc.tuple(fc.constantFrom("/api/v1/leads", "/api/v1/segment"), fc.jsonValue()),
      );
      await fc.assert(
        fc.asyncProperty(input, async ([path, value]) => {
          const leadsBefore = await count("leads");
          const eventsBefore = await count("events");
          const res = await raw(app.port, "POST", path, JSON.stringify(value));
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) {
            expect(await count("leads")).toBe(leadsBefore);
            expect(await count("events")).toBe(eventsBefore);
          } else {
            // Accepted: items may be stored, never removed.
            expect(await count("leads")).toBeGreaterThanOrEqual(leadsBefore);
            expect(await count("events")).toBeGreaterThanOrEqual(eventsBefore);
          }
        }),
        { numRuns: RUNS },
      );
    });
  });
}

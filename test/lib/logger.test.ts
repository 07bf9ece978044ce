import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client.js";
import { leads } from "../../src/db/schema.js";
import { createLogger } from "../../src/lib/logger.js";
import { testDatabases, withDatabase } from "../support/db.js";

/** Collects every line a logger writes. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: createLogger("info", stream), text: () => lines.join("") };
}

const EMAIL = "secret.person@private-example.com";

for (const config of testDatabases()) {
  describe(`logs on ${config.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const opened = await withDatabase(config);
      database = opened.database;
      cleanup = opened.cleanup;
      await database.db.insert(leads).values({ email: EMAIL, firstName: "Secret" });
    });

    afterAll(async () => {
      await cleanup?.();
    });

    it("when a statement with personal data in its parameters fails, then the log keeps the failure but not the data", async () => {
      const err = await database.db
        .insert(leads)
        .values([{ email: EMAIL, firstName: "Secret", company: "Hidden Corp" }])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      // Without scrubbing, both the driver's detail and drizzle's message name the email.
      expect(JSON.stringify({ m: (err as Error).message })).toContain(EMAIL);
      const { logger, text } = capture();
      logger.error({ err }, "request failed");
      const out = text();
      expect(out).toContain("request failed");
      expect(out).toContain("insert into");
      expect(out).toContain("[redacted]");
      expect(out).not.toContain(EMAIL);
      expect(out).not.toContain("Hidden Corp");
    });
  });
}

describe("log redaction of request fields", () => {
  it("when a log line carries a URL, a body, an email or a bearer header, then they are redacted", () => {
    const { logger, text } = capture();
    logger.warn(
      {
        url: `/api/v1/leads/${EMAIL}`,
        body: { leads: [{ email: EMAIL }] },
        email: EMAIL,
        lead: { email: EMAIL },
        headers: { authorization: "Bearer sekrit-token-123456" },
      },
      "odd request",
    );
    const out = text();
    expect(out).toContain("odd request");
    expect(out).not.toContain(EMAIL);
    expect(out).not.toContain("sekrit-token");
  });

  it("when an error's cause carries parameters, then the cause is scrubbed too", () => {
    const { logger, text } = capture();
    const cause = Object.assign(new Error("duplicate key"), {
      detail: `Key (email)=(${EMAIL}) already exists.`,
      parameters: [EMAIL],
    });
    logger.error({ err: new Error("Failed query", { cause }) }, "failed");
    const out = text();
    expect(out).toContain("duplicate key");
    expect(out).not.toContain(EMAIL);
  });
});

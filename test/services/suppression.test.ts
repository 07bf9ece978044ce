import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createSuppression, HASH_CACHE_SIZE } from "../../src/services/suppression.js";
import { suiteDatabase, testDatabases } from "../support/db.js";

for (const config of testDatabases()) {
  describe(`suppressed people on ${config.name}`, () => {
    const t = suiteDatabase(config);
    const k1 = Buffer.from("first key", "utf8");
    const k2 = Buffer.from("second key", "utf8");

    it("when the same person is hashed again, after the cache has turned over, or under another key, then each hash is the one a fresh hasher gives", () => {
      const db = t.database.db;
      const s = createSuppression(db);
      const jane = { email: " Jane@Acme.com ", externalId: "crm-1" };
      const first = s.entriesOf(k1, jane);
      expect(first.map((e) => e.kind)).toEqual(["email", "external_id"]);
      expect(s.entriesOf(k1, { email: "jane@acme.com", externalId: "crm-1" })).toEqual(first);
      for (let i = 0; i < HASH_CACHE_SIZE + 10; i++) s.entriesOf(k1, { email: `p${i}@acme.com` });
      expect(s.entriesOf(k1, jane)).toEqual(first);
      expect(createSuppression(db).entriesOf(k1, jane)).toEqual(first);
      // Another key hashes differently, and coming back to the first gives the first hashes.
      const other = s.entriesOf(k2, jane);
      expect(other.map((e) => e.hash)).not.toEqual(first.map((e) => e.hash));
      expect(other).toEqual(createSuppression(db).entriesOf(k2, jane));
      expect(s.entriesOf(k1, jane)).toEqual(first);
    });

    it("when a person is erased after being hashed many times, then the next check finds them", async () => {
      const s = createSuppression(t.database.db, "a configured key");
      const k = await s.key();
      const people = Array.from({ length: 50 }, (_, i) => ({ email: `p${i}@acme.com` }));
      expect(await s.suppressed(t.database.db, people)).toEqual(new Set());
      const [entry] = s.entriesOf(k, { email: "p7@acme.com" });
      // The suppression list as erasure writes it: kind and keyed hash.
      await t.database.db.execute(
        sql`insert into suppressions (kind, hash, created_by)
          values (${entry?.kind}, ${entry?.hash}, 'test')`,
      );
      expect(await s.suppressed(t.database.db, people)).toEqual(new Set([7]));
    });
  });
}

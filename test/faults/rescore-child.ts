import { openDatabase } from "../../src/db/client.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createServices } from "../../src/services/index.js";
import { activeModel, insertModelVersion } from "../../src/services/models.js";
import { rescoreForModelChange } from "../../src/services/rescore.js";

/**
 * Fixture for rescore-kill.test.ts: on the embedded directory LEADBOT_DATA_DIR, loads LEADS leads,
 * activates a model version that moves every score, and rescores in small chunks, printing
 * "progress <n>" after each one so the test knows when to kill it mid-walk.
 */
const dir = process.env.LEADBOT_DATA_DIR;
if (!dir) throw new Error("LEADBOT_DATA_DIR is required");
const leads = Number(process.env.LEADS ?? "3000");
const database = await openDatabase({ dataDir: dir, logger: silentLogger });
const services = createServices({ database, logger: silentLogger });
const from = await services.models.ensure();
for (let start = 0; start < leads; start += 1_000) {
  const batch = Array.from({ length: Math.min(1_000, leads - start) }, (_, i) => ({
    email: `lead${start + i}@company${(start + i) % 97}.com`,
    firstName: "Lead",
    lastName: String(start + i),
    company: `Company ${(start + i) % 97}`,
  }));
  await services.upsertLeads(batch, "import");
}
const before = await activeModel(database.db);
// A rule every lead matches: negative points are never capped, so every score moves.
const version = await insertModelVersion(
  database.db,
  {
    ...before.model,
    fit: {
      ...before.model.fit,
      rules: [
        ...before.model.fit.rules,
        {
          id: "everyone",
          label: "Everyone",
          points: -7,
          when: [{ field: "email", op: "present" }],
        },
      ],
    },
  },
  { by: "test", note: "moves every score" },
);
process.stdout.write(`version ${version} from ${from.version}\n`);
await rescoreForModelChange(database.db, before.model, {
  now: Date.now(),
  cause: "model",
  chunk: 100,
  onProgress: (n) => process.stdout.write(`progress ${n}\n`),
});
process.stdout.write("done\n");
await database.close();

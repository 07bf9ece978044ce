import postgres from "postgres";
import { openDatabase } from "../src/db/client.js";
import { activeModel } from "../src/services/models.js";
import { rescanStatement } from "./sql-rescan.js";
const url = process.argv[2] as string;
const database = await openDatabase({ url } as never);
const active = await activeModel(database.db);
await database.close();
const raw = postgres(url, { max: 1, onnotice: () => {} });
const NOW = Date.parse("2026-06-01T12:00:00Z");
for (const update of [false, true, false, true]) {
  const st = rescanStatement(active.model, active.version + 1, NOW, update);
  await raw.begin(async (tx) => {
    await tx.unsafe("set local work_mem = '64MB'");
    await tx.unsafe("set local jit = off");
    const t0 = performance.now();
    await tx.unsafe(update ? st : `select count(*) from (${st}) x`);
    console.log(update ? "update" : "select", (performance.now() - t0).toFixed(0));
    await tx.unsafe("rollback");
  }).catch(() => undefined);
}
await raw.end();

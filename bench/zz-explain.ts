import { sql } from "drizzle-orm";
import { openDatabase } from "/work/wt/weightsdecay/src/db/client.js";
import { withWeights } from "/work/wt/weightsdecay/src/core/diff.js";
import { activeModel } from "/work/wt/weightsdecay/src/services/models.js";
import { applyPoints } from "/work/wt/weightsdecay/src/services/points.js";
import { pointChanges } from "/work/wt/weightsdecay/src/core/plan.js";

const url = process.argv[2] as string;
const database = await openDatabase({ url } as never);
const db = database.db;
const active = await activeModel(db);
const rule = process.argv[3] ?? "page_view";
const to = withWeights(active.model, { [rule]: (active.model.engagement.rules.find((r) => r.id === rule)?.points ?? 1) * 2 });
const changes = pointChanges(active.model, to)!;
const orig = db.transaction.bind(db);
(db as any).transaction = (fn: any) =>
  orig(async (tx: any) => {
    const fake = new Proxy(tx, {
      get(target, prop) {
        if (prop === "execute")
          return async (q: any) => {
            const t0 = performance.now();
            const text = JSON.stringify(q.queryChunks?.[0]?.value ?? "");
            if (text.includes("set local")) return target.execute(q);
            const r = await target.execute(sql`explain (analyze, buffers) ${q}`);
            console.log(`-- ${(performance.now() - t0).toFixed(0)} ms`);
            for (const row of (r.rows ?? r) as any[]) console.log(row["QUERY PLAN"]);
            return [];
          };
        return target[prop];
      },
    });
    await fn(fake);
    throw new Error("rollback");
  });
await applyPoints(db, { modelKey: "default", version: active.version + 1, model: to, changes, now: Date.parse("2026-06-01T12:00:00Z") }).catch((e) => console.log(String(e)));
await database.close();

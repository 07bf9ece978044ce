import { sql } from "drizzle-orm";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { STAGES } from "../core/model.js";
import { type Db, execRows } from "../db/client.js";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"route" | "method" | "status">;
  httpDuration: Histogram<"route">;
  ingested: Counter<"kind" | "result">;
  alertsSent: Counter<"result">;
}

/** One registry per app instance, so tests that run several instances do not collide. */
export function createMetrics(db: Db): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "leadbot_process_" });
  const metrics: Metrics = {
    registry,
    httpRequests: new Counter({
      name: "leadbot_http_requests_total",
      help: "HTTP requests by route, method and status",
      labelNames: ["route", "method", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "leadbot_http_request_duration_seconds",
      help: "HTTP request duration by route",
      labelNames: ["route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    ingested: new Counter({
      name: "leadbot_ingested_items_total",
      help: "Ingested leads and events by result (accepted, duplicate, invalid)",
      labelNames: ["kind", "result"],
      registers: [registry],
    }),
    alertsSent: new Counter({
      name: "leadbot_alerts_total",
      help: "Alert delivery attempts by result",
      labelNames: ["result"],
      registers: [registry],
    }),
  };
  new Gauge({
    name: "leadbot_leads",
    help: "Leads by stage",
    labelNames: ["stage"],
    registers: [registry],
    async collect() {
      const rows = await execRows<{ stage: string; n: number }>(
        db,
        sql`select stage, count(*)::int as n from lead_scores group by stage`,
      );
      // Every stage is exported, at 0 when empty, so dashboards see the series from the start.
      for (const stage of STAGES) this.set({ stage }, 0);
      for (const r of rows) this.set({ stage: r.stage }, r.n);
    },
  });
  new Gauge({
    name: "leadbot_alert_outbox_pending",
    help: "Alerts waiting for delivery",
    registers: [registry],
    async collect() {
      const [row] = await execRows<{ n: number }>(
        db,
        sql`select count(*)::int as n from alert_outbox where status = 'pending'`,
      );
      this.set(row?.n ?? 0);
    },
  });
  return metrics;
}

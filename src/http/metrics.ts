import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { STAGES } from "../core/model.js";
import type { Services } from "../services/index.js";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"route" | "method" | "status">;
  httpDuration: Histogram<"route">;
  ingested: Counter<"kind" | "result">;
  alertsSent: Counter<"result">;
}

/** One registry per app instance, so tests that run several instances do not collide. */
export function createMetrics(services: Pick<Services, "metricsSnapshot" | "scoring">): Metrics {
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
      help: "Ingested leads and events by result (accepted, duplicate, invalid, suppressed)",
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
      const { stages } = await services.metricsSnapshot();
      // Every stage is exported, at 0 when empty, so dashboards see the series from the start.
      for (const stage of STAGES) this.set({ stage }, stages[stage] ?? 0);
    },
  });
  new Gauge({
    name: "leadbot_alert_outbox_pending",
    help: "Alerts waiting for delivery",
    registers: [registry],
    async collect() {
      this.set((await services.metricsSnapshot()).alertsPending);
    },
  });
  new Counter({
    name: "leadbot_scorer_looks_total",
    help: "Background looks of this instance's scorer for accepted events, by whether it found some",
    labelNames: ["result"],
    registers: [registry],
    collect() {
      const looks = services.scoring.looks();
      this.reset();
      this.inc({ result: "found" }, looks.found);
      this.inc({ result: "empty" }, looks.empty);
    },
  });
  return metrics;
}

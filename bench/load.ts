/**
 * `npm run bench -- --load`: a sustained event stream at a fixed rate over HTTP while reps ask
 * for the top 10, measuring how long an accepted event takes to be scored, how long a crossing
 * takes to queue its alert, and what the top-10 answer costs meanwhile.
 */
import type { Db } from "../src/db/client.js";
import { preparedRows } from "../src/db/client.js";
import { rng } from "./data.js";
import { httpClient } from "./http.js";
import { percentile } from "./report.js";

export interface LoadOptions {
  port: number;
  token: string;
  /** The bench database, for watching marks and the alert outbox. */
  db: Db;
  leads: number;
  /** Events a second to hold. */
  rate: number;
  seconds: number;
  /** The server's clock: events happen at this time. */
  now: number;
  seed: number;
  log: (msg: string) => void;
}

export interface Latencies {
  p50: number;
  p99: number;
  n: number;
}

export interface LoadResult {
  sent: number;
  /** Events the server accepted per second over the run. */
  achievedRate: number;
  /** From sending an event's request to the scorer's commit of its batch being seen. */
  scored: Latencies;
  /** From sending a crossing event to its alert row being seen in the outbox. */
  alert: Latencies;
  /** `GET /api/v1/leads?top=10` answered during the run. */
  top: Latencies;
  /** Requests that failed (non-200); the run is void when any did. */
  failed: number;
  /** What `failed` counts, as a sentence. */
  why: string;
}

/** Batches go out this often; events per batch follow from the rate. */
const TICK_MS = 50;
/** One new lead a second crosses MQL (two demo requests): the alert latency samples. */
const CROSSING_EVERY_MS = 1_000;
/** How often the watcher looks for scored batches and new alerts. */
const WATCH_MS = 10;
/** Reps asking for the top 10 at once, each waiting this long between questions. */
const REPS = 2;
const REP_THINK_MS = 100;
/** After the stream stops, how long to wait for the last events to be scored. */
const DRAIN_LIMIT_MS = 30_000;

const TYPES = ["page_view", "page_view", "page_view", "email_open", "email_click", "form_submit"];
const PAGES = ["/", "/product", "/pricing", "/blog/alerts", "/docs"];

function summary(samples: number[]): Latencies {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), n: s.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const client = httpClient(o.port, o.token, 64);
  const reps = httpClient(o.port, o.token, REPS);
  const r = rng(o.seed ^ 0x10ad);
  const perTick = Math.max(1, Math.round((o.rate * TICK_MS) / 1000));
  const at = new Date(o.now).toISOString();
  /** Batch number → when its request was sent. */
  const outstanding = new Map<number, number>();
  /** Crossing lead email → when its events were sent. */
  const crossing = new Map<string, number>();
  const scored: number[] = [];
  const alerts: number[] = [];
  const top: number[] = [];
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let n = 0;
  let lastAlert = 0;
  let streaming = true;
  let givenUp = false;
  const inFlight = new Set<Promise<void>>();

  const send = (events: Record<string, unknown>[], crossEmail: string | undefined) => {
    const t0 = performance.now();
    if (crossEmail) crossing.set(crossEmail, t0);
    sent += events.length;
    const p = client
      .post("/api/v1/events", JSON.stringify({ events }))
      .then(async (res) => {
        if (res.status !== 200) {
          failed++;
          return;
        }
        accepted += (JSON.parse(res.body) as { accepted: number }).accepted;
        // By its lead as well as its id: events have no index on the id alone (the id ledger
        // is `event_ids`), and a scan of every partition per request would load the server.
        const first = events[0] as { id: string; leadId?: number; email?: string };
        const [row] = await preparedRows<{ batch: number }>(
          o.db,
          `select e.batch::float8 as batch from events e
           where e.id = $1 and e.lead_id = coalesce($2::bigint,
             (select l.id from leads l where l.email = $3::text))`,
          [first.id, first.leadId ?? null, first.email ?? null],
        );
        if (row) outstanding.set(Number(row.batch), t0);
      })
      .catch(() => {
        failed++;
      });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const watcher = (async () => {
    while ((streaming || outstanding.size > 0 || crossing.size > 0) && !givenUp) {
      await sleep(WATCH_MS);
      const now = performance.now();
      if (outstanding.size > 0) {
        const batches = [...outstanding.keys()];
        const left = await preparedRows<{ batch: number }>(
          o.db,
          "select distinct batch::float8 as batch from event_marks where batch = any($1::bigint[])",
          [batches],
        );
        const still = new Set(left.map((x) => Number(x.batch)));
        for (const b of batches) {
          if (still.has(b)) continue;
          scored.push(now - (outstanding.get(b) as number));
          outstanding.delete(b);
        }
      }
      if (crossing.size > 0) {
        const rows = await preparedRows<{ id: number; email: string }>(
          o.db,
          `select o.id::float8 as id, l.email from alert_outbox o join leads l on l.id = o.lead_id
           where o.id > $1 order by o.id`,
          [lastAlert],
        );
        for (const row of rows) {
          lastAlert = Math.max(lastAlert, Number(row.id));
          const t0 = crossing.get(row.email);
          if (t0 === undefined) continue;
          alerts.push(now - t0);
          crossing.delete(row.email);
        }
      }
    }
  })();

  const repLoops = Array.from({ length: REPS }, async () => {
    while (streaming) {
      const t0 = performance.now();
      const res = await reps.get("/api/v1/leads?top=10");
      if (res.status !== 200) failed++;
      top.push(performance.now() - t0);
      await sleep(REP_THINK_MS);
    }
  });

  const start = performance.now();
  let crossings = 0;
  for (let tick = 0; ; tick++) {
    const due = start + tick * TICK_MS;
    const elapsed = performance.now() - start;
    if (elapsed >= o.seconds * 1000) break;
    if (due > performance.now()) await sleep(due - performance.now());
    const events: Record<string, unknown>[] = [];
    let crossEmail: string | undefined;
    if (tick * TICK_MS >= crossings * CROSSING_EVERY_MS) {
      crossEmail = `load-cross-${crossings}@company${crossings}.example`;
      crossings++;
      for (let k = 0; k < 2; k++)
        events.push({ id: `load-${++n}`, email: crossEmail, type: "demo_request", occurredAt: at });
    }
    while (events.length < perTick) {
      const lead = 1 + Math.floor(r() ** 1.6 * o.leads);
      const type = TYPES[Math.floor(r() * TYPES.length)] as string;
      events.push({
        id: `load-${++n}`,
        leadId: lead,
        type,
        occurredAt: at,
        properties: type === "page_view" ? { url: PAGES[Math.floor(r() * PAGES.length)] } : {},
      });
    }
    send(events, crossEmail);
    if (tick % Math.round(10_000 / TICK_MS) === 0 && tick > 0)
      o.log(`  load ${Math.round(elapsed / 1000)} s: ${sent} events sent, ${accepted} accepted`);
  }
  const streamMs = performance.now() - start;
  await Promise.all([...inFlight]);
  streaming = false;
  await Promise.all(repLoops);
  await Promise.race([watcher, sleep(DRAIN_LIMIT_MS)]);
  givenUp = true;
  await watcher;
  client.close();
  reps.close();
  return {
    sent,
    achievedRate: accepted / (streamMs / 1000),
    scored: summary(scored),
    alert: summary(alerts),
    top: summary(top),
    failed: failed + outstanding.size + crossing.size,
    why: `${failed} requests failed, ${outstanding.size} accepted batches not scored and ${crossing.size} crossings not alerted when the drain limit passed`,
  };
}

/**
 * Seeded, streaming generator of benchmark leads and events. Deterministic for a given seed and
 * size, fast enough for millions of rows, and never holding more than one row in memory.
 */

export const DAY_MS = 86_400_000;
/** Events span this many days before `now`: long enough for decay and the inactivity penalty. */
export const SPAN_DAYS = 150;

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T;
}

const TITLES = [
  "VP of Sales",
  "Head of Marketing",
  "Director of Engineering",
  "Marketing Manager",
  "Sales Manager",
  "Software Engineer",
  "Analyst",
  "CTO",
  "Chief Revenue Officer",
  "Founder",
  "Student",
  "Account Executive",
  "Operations Lead",
  "Product Manager",
  "Consultant",
];
const INDUSTRIES = [
  "software",
  "fintech",
  "financial services",
  "healthcare",
  "manufacturing",
  "retail",
  "education",
  "government",
  "media",
  "construction",
];
const COUNTRIES = ["US", "GB", "DE", "FR", "CA", "NL", "IN", "BR", "JP", "ES"];
const SOURCES = ["web", "webinar", "paid", "referral", "event"];
const DOMAINS = ["gmail.com", "outlook.com"];

export const LEAD_COLUMNS = [
  "email",
  "first_name",
  "last_name",
  "title",
  "company",
  "industry",
  "employees",
  "annual_revenue",
  "country",
  "source",
] as const;

export function leadEmail(i: number): string {
  // One lead in eight signs up with a personal address.
  return i % 8 === 0 ? `person${i}@${DOMAINS[i % 2]}` : `user${i}@company${i % 20_011}.example`;
}

/** Lead number `i` (1-based) as a row of LEAD_COLUMNS. Lead `i` gets id `i` in a fresh store. */
export function* leadRows(seed: number, count: number): Generator<unknown[]> {
  const r = rng(seed);
  for (let i = 1; i <= count; i++) {
    const employees = Math.floor(2 + r() ** 3 * 20_000);
    yield [
      leadEmail(i),
      `First${i}`,
      `Last${i}`,
      pick(r, TITLES),
      `Company ${i % 20_011}`,
      pick(r, INDUSTRIES),
      employees,
      employees * 120_000,
      pick(r, COUNTRIES),
      pick(r, SOURCES),
    ];
  }
}

export interface BenchEvent {
  /** Sequence number; the event id is `e<n>`. */
  n: number;
  /** 1-based lead number (= lead id in a fresh store). */
  lead: number;
  type: string;
  at: number;
  url: string | undefined;
}

const PAGES = [
  "/",
  "/blog/scoring-101",
  "/blog/alerts",
  "/product",
  "/features",
  "/pricing",
  "/integrations",
  "/customers",
  "/docs",
  "/careers",
];

/** What a session starts with; later steps are page views, sometimes ending in a conversion. */
const SESSION_STARTS: readonly [string, number][] = [
  ["page_view", 0.55],
  ["email_open", 0.25],
  ["email_click", 0.12],
  ["webinar_attend", 0.03],
  ["content_download", 0.03],
  ["unsubscribe", 0.01],
  ["email_bounce", 0.01],
];
const CONVERSIONS: readonly [string, number][] = [
  ["form_submit", 0.05],
  ["demo_request", 0.03],
  ["trial_start", 0.015],
  ["meeting_booked", 0.015],
];

function weighted(r: () => number, table: readonly [string, number][]): string | undefined {
  let x = r();
  for (const [name, p] of table) {
    x -= p;
    if (x < 0) return name;
  }
  return undefined;
}

/**
 * `count` events in time order, as a tracker would send them: sessions of one to eight events by
 * one lead within minutes, spread over SPAN_DAYS before `now`. Some leads are far more active
 * than others (a skewed pick), as in real traffic.
 */
export function* eventStream(
  seed: number,
  leads: number,
  count: number,
  now: number,
): Generator<BenchEvent> {
  const r = rng(seed ^ 0x5eed);
  const start = now - SPAN_DAYS * DAY_MS;
  const step = (SPAN_DAYS * DAY_MS) / count;
  let at = start;
  let n = 0;
  while (n < count) {
    const lead = 1 + Math.floor(r() ** 1.6 * leads);
    const first = weighted(r, SESSION_STARTS) ?? "page_view";
    const length = first === "page_view" ? 1 + Math.floor(r() * 8) : 1 + Math.floor(r() * 2);
    let t = at;
    for (let k = 0; k < length && n < count; k++) {
      const type =
        k === 0
          ? first
          : k === length - 1
            ? (weighted(r, CONVERSIONS) ?? "page_view")
            : "page_view";
      n++;
      yield {
        n,
        lead,
        type,
        at: Math.round(t),
        url: type === "page_view" ? pick(r, PAGES) : undefined,
      };
      t += 20_000 + r() * 120_000;
      at += step;
    }
  }
}

export function eventId(e: BenchEvent): string {
  return `e${e.n}`;
}

/** The event as the ingest API takes it. */
export function eventItem(e: BenchEvent): Record<string, unknown> {
  return {
    id: eventId(e),
    email: leadEmail(e.lead),
    type: e.type,
    occurredAt: new Date(e.at).toISOString(),
    properties: e.url === undefined ? {} : { url: e.url },
  };
}

export const EVENT_COLUMNS = ["id", "lead_id", "type", "occurred_at", "properties"] as const;

/** The event as a row of the events table (EVENT_COLUMNS), for COPY. */
export function eventRow(e: BenchEvent): unknown[] {
  return [
    eventId(e),
    e.lead,
    e.type,
    new Date(e.at).toISOString(),
    e.url === undefined ? "{}" : `{"url":"${e.url}"}`,
  ];
}

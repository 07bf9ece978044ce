import type { Services } from "./index.js";
import { MAX_BATCH_ITEMS } from "./ingest.js";
import type { LostReason, OutcomeKind } from "./team.js";

/**
 * The demo data set: realistic B2B leads, their behaviour and their outcomes, generated from a
 * seed. Every lead carries a hidden fit and intent; behaviour follows intent, intent follows fit,
 * and outcomes follow both, so a sensible scoring model ranks the demo data the way it ranks real
 * data. The generator is pure and lazy (benchmarks stream millions of leads through it);
 * `loadDemoData` feeds it through the same services the API uses.
 */

const DAY = 86_400_000;
/** How far back the demo behaviour reaches. */
const HISTORY_DAYS = 120;
/** Average events per lead when the caller does not say. */
export const DEFAULT_EVENTS_PER_LEAD = 8;
/** Upper bound on one lead's events, so a heavy-tailed draw cannot produce a pathological lead. */
const MAX_EVENTS_PER_LEAD = 200;
/** Leads per load batch: small enough for a short transaction, large enough to amortise it. */
const LOAD_BATCH_LEADS = 500;
/** Mean of the intent distribution below, measured over 100k leads; keeps the event mean on target. */
const INTENT_MEAN = 0.26;

/** Demo sales reps who own worked leads; valid Slack user ids in a range no real workspace uses. */
export const DEMO_REPS = ["U0DEMOREP1", "U0DEMOREP2", "U0DEMOREP3", "U0DEMOREP4", "U0DEMOREP5"];
/** Records outcomes on leads no rep owns. */
export const DEMO_USER = "U0DEMO001";
/** The demo company's own website, where page views happen. */
const SITE = "https://www.example.com";

export type Seniority = "c_level" | "vp" | "director" | "manager" | "ic" | "student";

export interface DemoLeadInput {
  email: string;
  externalId?: string;
  firstName: string;
  lastName: string;
  title: string;
  company: string;
  industry: string;
  employees: number;
  annualRevenue: number | null;
  country: string;
  source: string;
  owner?: string;
  attributes: Record<string, unknown>;
}

export interface DemoEventInput {
  /** Deterministic from seed, lead and position: a re-run is recognised as duplicates. */
  id: string;
  email: string;
  type: string;
  occurredAt: string;
  properties: Record<string, unknown>;
}

export interface DemoOutcome {
  email: string;
  outcome: OutcomeKind;
  reason?: string;
  note?: string;
  by: string;
}

export interface DemoLead {
  /** Position in the data set, from 0. */
  index: number;
  lead: DemoLeadInput;
  /** Oldest first. */
  events: DemoEventInput[];
  outcome?: DemoOutcome;
  /** The hidden truth behind the data, for tests and backtests; never loaded. */
  truth: { fit: number; intent: number; seniority: Seniority };
}

export interface DemoOptions {
  seed: number;
  leads: number;
  /** Epoch ms; behaviour falls in the HISTORY_DAYS before it. */
  now: number;
  eventsPerLead?: number;
}

// ---------------------------------------------------------------------------------------------
// Random numbers

/** Small, fast, good-enough PRNG with a 32-bit state (public domain, Tommy Ettinger). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Hashes seed parts into one 32-bit stream seed, so each lead and account has its own stream. */
function streamSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    for (const word of [p >>> 0, Math.floor(p / 4_294_967_296) >>> 0]) {
      h = Math.imul(h ^ word, 0x01000193);
      h ^= h >>> 13;
      h = Math.imul(h, 0x5bd1e995);
      h ^= h >>> 15;
    }
  }
  return h >>> 0;
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += Math.max(0, w);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= Math.max(0, w);
      if (r < 0) return item;
    }
    const last = items[items.length - 1];
    if (!last) throw new Error("weighted pick from an empty list");
    return last[0];
  }
  gauss(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gauss()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// ---------------------------------------------------------------------------------------------
// Accounts (companies)

interface IndustryProfile {
  /** How well the industry buys a sales tool, 0..1. */
  fit: number;
  /** Median annual revenue per employee, USD; null where revenue is not meaningful. */
  revenuePerEmployee: number | null;
  suffixes: readonly string[];
}

const INDUSTRIES: Record<string, IndustryProfile & { weight: number }> = {
  software: {
    weight: 22,
    fit: 1,
    revenuePerEmployee: 220_000,
    suffixes: ["Software", "Labs", "Cloud", "Systems", "AI"],
  },
  fintech: {
    weight: 8,
    fit: 0.9,
    revenuePerEmployee: 300_000,
    suffixes: ["Pay", "Capital", "Finance", "Ledger"],
  },
  "financial services": {
    weight: 7,
    fit: 0.75,
    revenuePerEmployee: 350_000,
    suffixes: ["Partners", "Financial", "Advisors"],
  },
  healthcare: {
    weight: 10,
    fit: 0.6,
    revenuePerEmployee: 150_000,
    suffixes: ["Health", "Medical", "Care", "Bio"],
  },
  manufacturing: {
    weight: 11,
    fit: 0.65,
    revenuePerEmployee: 260_000,
    suffixes: ["Industries", "Manufacturing", "Works", "Materials"],
  },
  retail: {
    weight: 9,
    fit: 0.5,
    revenuePerEmployee: 180_000,
    suffixes: ["Retail", "Goods", "Outfitters", "Market"],
  },
  logistics: {
    weight: 6,
    fit: 0.6,
    revenuePerEmployee: 200_000,
    suffixes: ["Logistics", "Freight", "Supply"],
  },
  "marketing services": {
    weight: 6,
    fit: 0.85,
    revenuePerEmployee: 140_000,
    suffixes: ["Agency", "Media", "Studio"],
  },
  consulting: {
    weight: 6,
    fit: 0.7,
    revenuePerEmployee: 160_000,
    suffixes: ["Consulting", "Group", "Advisory"],
  },
  telecommunications: {
    weight: 3,
    fit: 0.6,
    revenuePerEmployee: 400_000,
    suffixes: ["Telecom", "Networks"],
  },
  energy: {
    weight: 3,
    fit: 0.45,
    revenuePerEmployee: 500_000,
    suffixes: ["Energy", "Power", "Renewables"],
  },
  education: {
    weight: 5,
    fit: 0.25,
    revenuePerEmployee: 90_000,
    suffixes: ["Academy", "Learning", "University"],
  },
  government: {
    weight: 3,
    fit: 0.15,
    revenuePerEmployee: null,
    suffixes: ["County", "Agency", "Authority"],
  },
  nonprofit: {
    weight: 2,
    fit: 0.2,
    revenuePerEmployee: null,
    suffixes: ["Foundation", "Trust", "Alliance"],
  },
};
const INDUSTRY_WEIGHTS = Object.entries(INDUSTRIES).map(([name, p]) => [name, p.weight] as const);

const COMPANY_STEMS = [
  "Northwind",
  "Bluepeak",
  "Ironclad",
  "Brightline",
  "Cedar",
  "Summit",
  "Harbor",
  "Lumen",
  "Vertex",
  "Quarry",
  "Silverlake",
  "Redwood",
  "Granite",
  "Atlas",
  "Beacon",
  "Kestrel",
  "Meridian",
  "Orchard",
  "Pinnacle",
  "Riverstone",
  "Sable",
  "Tidewater",
  "Umbra",
  "Vantage",
  "Willow",
  "Zephyr",
  "Aurora",
  "Basalt",
  "Cobalt",
  "Driftwood",
  "Ember",
  "Foxglove",
  "Glacier",
  "Helix",
  "Indigo",
  "Juniper",
  "Keystone",
  "Larkspur",
  "Monarch",
  "Nimbus",
  "Onyx",
  "Prairie",
  "Quill",
  "Rook",
  "Starling",
  "Thistle",
  "Upland",
  "Vireo",
  "Wren",
  "Yarrow",
  "Acorn",
  "Bramble",
  "Copper",
  "Delta",
  "Evergreen",
  "Falcon",
  "Garnet",
  "Hawthorn",
  "Ivory",
  "Jasper",
] as const;

/** Employee-count bands (inclusive) and their share of accounts: many small firms, few giants. */
const SIZE_BANDS = [
  [[1, 10], 18],
  [[11, 50], 24],
  [[51, 200], 23],
  [[201, 1000], 19],
  [[1001, 5000], 11],
  [[5001, 50000], 5],
] as const;

const COUNTRIES = [
  ["US", 44],
  ["GB", 10],
  ["DE", 8],
  ["CA", 6],
  ["FR", 5],
  ["IN", 5],
  ["NL", 4],
  ["AU", 4],
  ["BR", 3],
  ["SE", 2],
  ["ES", 2],
  ["IE", 2],
  ["SG", 2],
  ["JP", 2],
  ["MX", 1],
] as const;
/** Markets the demo company sells into well. */
const CORE_MARKETS = new Set(["US", "GB", "CA", "DE", "NL", "AU", "IE", "SE", "FR"]);

interface Account {
  name: string;
  domain: string;
  industry: string;
  employees: number;
  annualRevenue: number | null;
  country: string;
  /** Leads in this account. */
  size: number;
  fit: number;
  rep: string;
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

function makeAccount(seed: number, k: number): Account {
  const rng = new Rng(streamSeed(seed, 1, k));
  const industry = rng.weighted(INDUSTRY_WEIGHTS);
  const profile = INDUSTRIES[industry] as IndustryProfile;
  const band = rng.weighted(SIZE_BANDS.map(([, w], idx) => [idx, w] as const));
  const [lo, hi] = (SIZE_BANDS[band] ?? SIZE_BANDS[0])[0];
  // Log-uniform inside the band: 12 and 45 employees are both common, 45.5 is not a thing.
  const employees = Math.round(
    Math.exp(Math.log(lo) + rng.float() * (Math.log(hi) - Math.log(lo))),
  );
  const annualRevenue =
    profile.revenuePerEmployee === null || rng.chance(0.12)
      ? null
      : Math.round(
          (employees * profile.revenuePerEmployee * Math.exp(0.45 * rng.gauss())) / 10_000,
        ) * 10_000;
  const country = rng.weighted(COUNTRIES);
  // A multiplicative permutation spreads consecutive accounts over the name space.
  const nameSpace = COMPANY_STEMS.length * 7;
  const slot = (k * 7919) % nameSpace;
  const stem = COMPANY_STEMS[slot % COMPANY_STEMS.length] as string;
  const suffix = profile.suffixes[
    Math.floor(slot / COMPANY_STEMS.length) % profile.suffixes.length
  ] as string;
  const round = Math.floor(k / nameSpace);
  const name = round === 0 ? `${stem} ${suffix}` : `${stem} ${suffix} ${round + 1}`;
  // The sweet spot is a company big enough to have a sales team, small enough to buy quickly.
  const sizeFit = [0.15, 0.55, 1, 1, 0.8, 0.55][band] ?? 0.5;
  const fit = clamp01(
    0.5 * sizeFit + 0.35 * profile.fit + 0.15 * (CORE_MARKETS.has(country) ? 1 : 0.4),
  );
  // Bigger companies show up with more people.
  const size = Math.min(12, 1 + rng.poisson(band <= 1 ? 0.4 : band <= 3 ? 1.2 : 2.5));
  return {
    name,
    domain: `${slug(`${stem} ${suffix}`)}${round === 0 ? "" : round + 1}.example`,
    industry,
    employees,
    annualRevenue,
    country,
    size,
    fit,
    rep: DEMO_REPS[k % DEMO_REPS.length] as string,
  };
}

// ---------------------------------------------------------------------------------------------
// People

const FIRST_NAMES = [
  "Olivia",
  "Liam",
  "Emma",
  "Noah",
  "Ava",
  "Mateo",
  "Sophia",
  "Lucas",
  "Amelia",
  "Ethan",
  "Mia",
  "Arjun",
  "Priya",
  "Wei",
  "Mei",
  "Hiroshi",
  "Yuki",
  "Fatima",
  "Omar",
  "Aisha",
  "Carlos",
  "Lucia",
  "Sofia",
  "Diego",
  "Chloe",
  "Jack",
  "Grace",
  "Henry",
  "Isla",
  "Leo",
  "Hannah",
  "Felix",
  "Clara",
  "Jonas",
  "Lena",
  "Elias",
  "Nora",
  "Oscar",
  "Freya",
  "Hugo",
  "Ines",
  "Rafael",
  "Zoe",
  "Daniel",
  "Sara",
  "David",
  "Julia",
  "Samuel",
  "Maya",
  "Benjamin",
  "Aaliyah",
  "Kwame",
  "Amara",
  "Tomas",
  "Ingrid",
  "Lars",
  "Anika",
  "Ravi",
  "Nina",
  "Marcus",
] as const;
const LAST_NAMES = [
  "Smith",
  "Johnson",
  "Williams",
  "Brown",
  "Garcia",
  "Miller",
  "Davis",
  "Martinez",
  "Lopez",
  "Wilson",
  "Anderson",
  "Taylor",
  "Thomas",
  "Moore",
  "Jackson",
  "Martin",
  "Lee",
  "Thompson",
  "White",
  "Harris",
  "Clark",
  "Lewis",
  "Walker",
  "Hall",
  "Young",
  "King",
  "Wright",
  "Scott",
  "Green",
  "Baker",
  "Adams",
  "Nelson",
  "Mueller",
  "Schmidt",
  "Schneider",
  "Fischer",
  "Weber",
  "Dubois",
  "Lefevre",
  "Rossi",
  "Bianchi",
  "Jansen",
  "de Vries",
  "Nielsen",
  "Larsen",
  "Kowalski",
  "Novak",
  "Patel",
  "Sharma",
  "Singh",
  "Kumar",
  "Chen",
  "Wang",
  "Li",
  "Zhang",
  "Tanaka",
  "Sato",
  "Kim",
  "Park",
  "Okafor",
  "Mensah",
  "Silva",
  "Santos",
  "Oliveira",
  "O'Brien",
  "Murphy",
] as const;

const FREE_EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com"];

type Department =
  | "sales"
  | "marketing"
  | "revenue operations"
  | "customer success"
  | "operations"
  | "engineering"
  | "product"
  | "finance"
  | "it"
  | "hr";

/** How close a department is to the buyer of a sales tool, 0..1. */
const DEPARTMENTS: readonly (readonly [Department, number, number])[] = [
  // [department, share, fit]
  ["sales", 24, 1],
  ["marketing", 20, 0.95],
  ["revenue operations", 7, 1],
  ["customer success", 7, 0.6],
  ["operations", 9, 0.55],
  ["engineering", 12, 0.3],
  ["product", 6, 0.35],
  ["finance", 6, 0.35],
  ["it", 5, 0.3],
  ["hr", 4, 0.15],
];

const SENIORITY_FIT: Record<Seniority, number> = {
  c_level: 0.9,
  vp: 1,
  director: 0.85,
  manager: 0.6,
  ic: 0.3,
  student: 0,
};

const C_TITLES: Record<Department, readonly string[]> = {
  sales: ["Chief Revenue Officer", "CRO", "Chief Sales Officer"],
  marketing: ["CMO", "Chief Marketing Officer"],
  "revenue operations": ["Chief Revenue Officer", "Chief Operating Officer"],
  "customer success": ["Chief Customer Officer"],
  operations: ["COO", "Chief Operating Officer", "CEO", "Co-Founder & CEO", "Founder"],
  engineering: ["CTO", "Chief Technology Officer", "Co-Founder & CTO"],
  product: ["Chief Product Officer", "CEO"],
  finance: ["CFO", "Chief Financial Officer"],
  it: ["CIO", "Chief Information Officer"],
  hr: ["Chief People Officer", "CHRO"],
};

const AREA: Record<Department, string> = {
  sales: "Sales",
  marketing: "Marketing",
  "revenue operations": "Revenue Operations",
  "customer success": "Customer Success",
  operations: "Operations",
  engineering: "Engineering",
  product: "Product",
  finance: "Finance",
  it: "IT",
  hr: "People",
};

const IC_TITLES: Record<Department, readonly string[]> = {
  sales: [
    "Account Executive",
    "Sales Development Representative",
    "Business Development Representative",
    "Account Manager",
  ],
  marketing: [
    "Marketing Specialist",
    "Demand Generation Specialist",
    "Content Marketer",
    "Marketing Coordinator",
  ],
  "revenue operations": ["Sales Operations Analyst", "RevOps Analyst", "CRM Administrator"],
  "customer success": ["Customer Success Manager", "Support Specialist"],
  operations: ["Operations Analyst", "Business Analyst"],
  engineering: [
    "Software Engineer",
    "Senior Software Engineer",
    "Data Engineer",
    "DevOps Engineer",
  ],
  product: ["Product Designer", "Product Analyst"],
  finance: ["Financial Analyst", "Accountant"],
  it: ["Systems Administrator", "IT Specialist"],
  hr: ["Recruiter", "HR Generalist"],
};

function makeTitle(rng: Rng, seniority: Seniority, dept: Department): string {
  const area = AREA[dept];
  switch (seniority) {
    case "c_level":
      return rng.pick(C_TITLES[dept]);
    case "vp":
      return rng.pick([`VP of ${area}`, `VP ${area}`, `Vice President, ${area}`, `SVP ${area}`]);
    case "director":
      return rng.pick([
        `Director of ${area}`,
        `${area} Director`,
        `Head of ${area}`,
        `Senior Director, ${area}`,
      ]);
    case "manager":
      return rng.pick([`${area} Manager`, `Senior ${area} Manager`, `${area} Team Lead`]);
    case "ic":
      return rng.pick(IC_TITLES[dept]);
    case "student":
      return rng.pick(["Student", `${area} Intern`, "MBA Candidate", "Graduate Student", "Intern"]);
  }
}

/** Seniority mix by company size band: founders and C-levels fill in at small companies. */
function seniorityFor(rng: Rng, employees: number): Seniority {
  const small = employees <= 50;
  const large = employees > 1000;
  return rng.weighted<Seniority>([
    ["c_level", small ? 16 : large ? 2.5 : 6],
    ["vp", small ? 6 : large ? 7 : 8],
    ["director", small ? 9 : large ? 15 : 14],
    ["manager", small ? 18 : large ? 27 : 24],
    ["ic", small ? 39 : large ? 43 : 41],
    ["student", 7],
  ]);
}

const SOURCES = [
  ["website", 26],
  ["organic_search", 16],
  ["paid_search", 12],
  ["linkedin", 10],
  ["content", 9],
  ["webinar", 7],
  ["event", 5],
  ["referral", 5],
  ["partner", 4],
  ["outbound", 6],
] as const;
/** Sources that bring people who already want to talk. */
const WARM_SOURCES = new Set(["referral", "event", "partner"]);

// ---------------------------------------------------------------------------------------------
// Behaviour

const BLOG_POSTS = [
  "lead-scoring-101",
  "mql-vs-sql",
  "sales-and-marketing-alignment",
  "intent-data-explained",
  "b2b-funnel-benchmarks",
  "scoring-model-decay",
  "slack-for-sales-teams",
  "pipeline-reviews",
  "icp-worksheet",
  "account-based-marketing-basics",
  "hiring-your-first-sdr",
  "crm-hygiene",
];
const FEATURES = ["scoring", "alerts", "integrations", "analytics", "slack"];
const COMPETITORS = ["legacy-crm", "spreadsheet", "marketing-suite"];
const JOBS = ["account-executive", "software-engineer", "marketing-intern", "sdr"];
const ASSETS = [
  "guide-lead-scoring-playbook",
  "report-state-of-b2b-sales",
  "template-icp-worksheet",
  "ebook-sales-marketing-sla",
  "checklist-crm-migration",
];
const WEBINARS = ["Scoring that sales trusts", "From MQL to revenue", "Slack-first sales teams"];
const CAMPAIGNS = [
  "newsletter-monthly",
  "nurture-welcome",
  "nurture-pricing",
  "webinar-invite",
  "product-update",
  "case-study-roundup",
];

function pageUrl(rng: Rng, intent: number, jobSeeker: boolean): string {
  const path = rng.weighted<() => string>([
    [() => "/", 14],
    [() => "/product", 10],
    [() => `/product/${rng.pick(FEATURES)}`, 6 + 6 * intent],
    [() => `/blog/${rng.pick(BLOG_POSTS)}`, 26 * (1.2 - intent)],
    [() => "/pricing", 3 + 22 * intent],
    [() => "/customers", 3 + 6 * intent],
    [() => "/security", 1 + 5 * intent],
    [
      () => `/docs/${rng.pick(["getting-started", "api", "model-file", "slack-setup"])}`,
      2 + 6 * intent,
    ],
    [() => `/compare/${rng.pick(COMPETITORS)}`, 1 + 5 * intent],
    [() => "/about", 3],
    [() => (rng.chance(0.5) ? "/careers" : `/careers/${rng.pick(JOBS)}`), jobSeeker ? 45 : 0.6],
  ])();
  return path;
}

interface Draft {
  type: string;
  /** Milliseconds before `now`. */
  ago: number;
  properties: Record<string, unknown>;
}

/** The lead's behaviour as offsets before `now`, in generation order (ids follow this order). */
function behaviour(
  rng: Rng,
  p: { intent: number; jobSeeker: boolean; freeEmail: boolean; eventsPerLead: number },
): Draft[] {
  const { intent } = p;
  // Hot leads were active lately; cold ones may have gone quiet weeks ago.
  const quietDays = intent > 0.6 ? rng.float() * 6 : rng.float() * 45;
  const activeDays = Math.min(HISTORY_DAYS - quietDays, 3 + rng.float() * 70);
  const end = quietDays * DAY;
  const span = Math.max(1, activeDays) * DAY;
  /** A moment in the active window; `late` in 0..1 pushes it towards the window's end. */
  const at = (late = 0) => end + span * (1 - (late + (1 - late) * rng.float()));

  const drafts: Draft[] = [];
  const volume = (0.3 + 1.8 * intent) / (0.3 + 1.8 * INTENT_MEAN);
  const perLead = p.eventsPerLead;

  const views = rng.poisson(perLead * 0.55 * volume);
  for (let i = 0; i < views; i++) {
    const path = pageUrl(rng, intent, p.jobSeeker);
    drafts.push({
      type: "page_view",
      ago: at(path === "/pricing" ? intent * 0.5 : 0),
      properties: { url: `${SITE}${path}`, path },
    });
  }

  const bounced = rng.chance(p.freeEmail ? 0.01 : 0.035);
  if (bounced) {
    drafts.push({ type: "email_bounce", ago: at(), properties: { campaign: rng.pick(CAMPAIGNS) } });
  } else {
    const opens = rng.poisson(perLead * 0.28 * volume);
    const unsubscribeAt = rng.chance(0.09 * (1 - intent)) ? at() : undefined;
    for (let i = 0; i < opens; i++) {
      const ago = at();
      // Nobody opens mail they unsubscribed from.
      if (unsubscribeAt !== undefined && ago < unsubscribeAt) continue;
      const campaign = rng.pick(CAMPAIGNS);
      drafts.push({ type: "email_open", ago, properties: { campaign } });
      if (rng.chance(0.12 + 0.35 * intent)) {
        drafts.push({
          type: "email_click",
          ago: Math.max(0, ago - rng.float() * 3_600_000),
          properties: { campaign, url: `${SITE}${pageUrl(rng, intent, false)}` },
        });
      }
    }
    if (unsubscribeAt !== undefined) {
      drafts.push({
        type: "unsubscribe",
        ago: unsubscribeAt,
        properties: { campaign: rng.pick(CAMPAIGNS) },
      });
    }
  }

  const downloads = rng.poisson(0.15 + 0.9 * intent);
  for (let i = 0; i < downloads; i++) {
    const asset = rng.pick(ASSETS);
    drafts.push({
      type: "content_download",
      ago: at(),
      properties: { asset, url: `${SITE}/resources/${asset}` },
    });
  }
  if (rng.chance(0.04 + 0.22 * intent)) {
    drafts.push({
      type: "webinar_attend",
      ago: at(0.2),
      properties: { webinar: rng.pick(WEBINARS) },
    });
  }
  if (rng.chance(0.08 + 0.15 * intent)) {
    const form = p.jobSeeker
      ? "job_application"
      : rng.pick(["newsletter", "contact", "newsletter"]);
    drafts.push({
      type: "form_submit",
      ago: at(),
      properties: { form, url: `${SITE}/${form === "contact" ? "contact" : "subscribe"}` },
    });
  }

  // The strong buying signals are rare and belong to the hot end of the intent range.
  const demo = !p.jobSeeker && rng.chance(0.75 * intent ** 2.5);
  if (demo) {
    const demoAgo = at(0.5);
    drafts.push({
      type: "demo_request",
      ago: demoAgo,
      properties: { form: "demo", url: `${SITE}/demo` },
    });
    if (rng.chance(0.65)) {
      drafts.push({
        type: "meeting_booked",
        ago: Math.max(0, demoAgo - (1 + rng.float() * 6) * DAY),
        properties: { meeting: "discovery call" },
      });
    }
  } else if (rng.chance(0.08 * intent ** 2)) {
    drafts.push({ type: "meeting_booked", ago: at(0.4), properties: { meeting: "intro call" } });
  }
  if (!p.jobSeeker && rng.chance(0.45 * intent ** 2)) {
    drafts.push({
      type: "trial_start",
      ago: at(0.4),
      properties: { plan: rng.pick(["team", "business"]) },
    });
  }
  return drafts.slice(0, MAX_EVENTS_PER_LEAD);
}

const NOT_A_FIT_NOTES: Record<string, string> = {
  student: "Student research project, no buying intent.",
  job_seeker: "Looking for a job, not a product.",
  too_small: "Team too small for a sales tool.",
  wrong_segment: "Outside our market segment.",
};

const LOST_WEIGHTS: readonly (readonly [LostReason, number])[] = [
  ["no_decision", 25],
  ["chose_competitor", 20],
  ["no_budget", 18],
  ["bad_timing", 15],
  ["no_response", 17],
  ["other", 5],
];
const OTHER_NOTES = [
  "Procurement froze all new vendors.",
  "Champion left the company.",
  "Built it in-house.",
];

function outcomeFor(
  rng: Rng,
  lead: DemoLeadInput,
  t: { fit: number; intent: number; seniority: Seniority; jobSeeker: boolean; engaged: boolean },
): DemoOutcome | undefined {
  // Sales works engaged leads; some of them are still open at `now`.
  if (!t.engaged || !rng.chance(0.6)) return undefined;
  const by = lead.owner ?? DEMO_USER;
  if (t.fit < 0.38 && rng.chance(0.7)) {
    const why =
      t.seniority === "student"
        ? "student"
        : t.jobSeeker
          ? "job_seeker"
          : lead.employees <= 10
            ? "too_small"
            : "wrong_segment";
    return { email: lead.email, outcome: "not_a_fit", reason: why, note: NOT_A_FIT_NOTES[why], by };
  }
  // About a quarter of worked leads close; the best fit, most engaged ones close most often.
  const won = rng.chance(sigmoid(-5.5 + 3.5 * t.fit + 4 * t.intent));
  if (won) return { email: lead.email, outcome: "won", by };
  const reason = rng.weighted(LOST_WEIGHTS);
  return {
    email: lead.email,
    outcome: "lost",
    reason,
    ...(reason === "other" ? { note: rng.pick(OTHER_NOTES) } : {}),
    by,
  };
}

// ---------------------------------------------------------------------------------------------
// The generator

/**
 * Yields the demo leads one by one, each with its events and (maybe) its outcome. Lazy and
 * bounded in memory: a benchmark can stream a million leads through it. The same options give the
 * same data; event ids do not depend on `now`, so a later re-run is recognised as duplicates.
 */
export function* generateDemo(opts: DemoOptions): Generator<DemoLead> {
  if (!Number.isInteger(opts.leads) || opts.leads < 0) {
    throw new RangeError(`leads must be a whole number >= 0, got ${opts.leads}`);
  }
  if (!Number.isFinite(opts.now)) throw new RangeError("now must be epoch milliseconds");
  const eventsPerLead = opts.eventsPerLead ?? DEFAULT_EVENTS_PER_LEAD;
  if (!(eventsPerLead >= 0)) throw new RangeError("eventsPerLead must be >= 0");
  const seed = opts.seed;

  let k = -1;
  let account: Account | undefined;
  let left = 0;
  let localParts = new Set<string>();
  for (let i = 0; i < opts.leads; i++) {
    if (!account || left === 0) {
      k++;
      account = makeAccount(seed, k);
      left = account.size;
      localParts = new Set();
    }
    left--;
    const rng = new Rng(streamSeed(seed, 2, i));
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    const dept = rng.weighted(DEPARTMENTS.map(([d, w]) => [d, w] as const));
    const deptFit = DEPARTMENTS.find(([d]) => d === dept)?.[2] ?? 0.5;
    const seniority = seniorityFor(rng, account.employees);
    const freeEmail = rng.chance(seniority === "student" ? 0.6 : 0.06);
    const jobSeeker = seniority === "student" ? rng.chance(0.5) : rng.chance(0.03);

    const local = slug(`${firstName}.${lastName}`).replace(/-/g, ".");
    let email: string;
    if (freeEmail) email = `${local}${i}@${rng.pick(FREE_EMAIL_DOMAINS)}`;
    else {
      const part = localParts.has(local) ? `${local}${i}` : local;
      localParts.add(part);
      email = `${part}@${account.domain}`;
    }

    // Fit is a product: a VP of Sales at a student club, or an engineer at the ideal account,
    // is still a poor fit.
    const fit = clamp01(
      SENIORITY_FIT[seniority] * (0.3 + 0.7 * deptFit) * (0.35 + 0.65 * account.fit) +
        0.05 * rng.gauss() -
        (freeEmail ? 0.15 : 0) -
        (jobSeeker ? 0.1 : 0),
    );
    const source = rng.weighted(SOURCES);
    // Intent follows fit (the right people have the problem) but with plenty of noise.
    const intent = clamp01(
      0.5 * fit ** 1.5 +
        0.45 * rng.float() ** 2.2 +
        (WARM_SOURCES.has(source) ? 0.12 : 0) +
        0.08 * rng.gauss() -
        (jobSeeker ? 0.25 : 0),
    );
    const engaged = intent > 0.45 || (intent > 0.3 && rng.chance(0.2));

    const lead: DemoLeadInput = {
      email,
      firstName,
      lastName,
      title: makeTitle(rng, seniority, dept),
      company: account.name,
      industry: account.industry,
      employees: account.employees,
      annualRevenue: account.annualRevenue,
      country: account.country,
      source,
      attributes: { demo: true, department: dept },
    };
    // Leads synced from the CRM carry its id.
    if (rng.chance(0.55)) lead.externalId = `demo-${seed}-${i}`;
    // Reps own the accounts they work; the rest of the database is unassigned.
    if (engaged ? rng.chance(0.7) : rng.chance(0.04)) lead.owner = account.rep;

    const drafts = behaviour(rng, { intent, jobSeeker, freeEmail, eventsPerLead });
    const events: DemoEventInput[] = drafts.map((d, j) => ({
      id: `demo-${seed}-${i}-${j}`,
      email,
      type: d.type,
      occurredAt: new Date(opts.now - Math.round(d.ago)).toISOString(),
      properties: d.properties,
    }));
    events.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));

    const outcome = outcomeFor(rng, lead, { fit, intent, seniority, jobSeeker, engaged });
    yield {
      index: i,
      lead,
      events,
      ...(outcome ? { outcome } : {}),
      truth: { fit, intent, seniority },
    };
  }
}

/** The demo leads alone, as lead inputs. */
export function* demoLeads(opts: DemoOptions): Generator<DemoLeadInput> {
  for (const d of generateDemo(opts)) yield d.lead;
}

/** The demo events alone, lead by lead. */
export function* demoEvents(opts: DemoOptions): Generator<DemoEventInput> {
  for (const d of generateDemo(opts)) yield* d.events;
}

// ---------------------------------------------------------------------------------------------
// Loading

export interface DemoLoadOptions {
  seed: number;
  leads: number;
  /** Epoch ms the behaviour ends at; defaults to the services' clock. */
  now?: number;
  eventsPerLead?: number;
}

export interface DemoLoadResult {
  leads: number;
  events: number;
  outcomes: number;
  /** Alerts queued by leads that crossed a threshold while loading. */
  alerts: number;
}

function describeErrors(what: string, errors: { index: number; field: string; reason: string }[]) {
  const first = errors[0];
  return new Error(
    `demo ${what} rejected (${errors.length}): item ${first?.index} ${first?.field} ${first?.reason}`,
  );
}

/**
 * Loads the demo data set through the same services the ingest API uses, in batches: leads, then
 * their events, then outcomes once every score is in place (outcomes record the score they
 * closed at). Running it again changes nothing: leads upsert, events dedupe on id, outcomes dedupe
 * on the latest one.
 */
export async function loadDemoData(
  services: Services,
  opts: DemoLoadOptions,
): Promise<DemoLoadResult> {
  const now = opts.now ?? services.clock();
  const result: DemoLoadResult = { leads: 0, events: 0, outcomes: 0, alerts: 0 };
  const outcomes: DemoOutcome[] = [];
  let leadBatch: DemoLeadInput[] = [];
  let eventBatch: DemoEventInput[] = [];

  const flush = async () => {
    if (leadBatch.length > 0) {
      const r = await services.upsertLeads(leadBatch, "import");
      if (r.errors.length > 0) throw describeErrors("leads", r.errors);
      result.leads += r.leads.length;
      result.alerts += r.alerts;
    }
    for (let i = 0; i < eventBatch.length; i += MAX_BATCH_ITEMS) {
      const r = await services.recordEvents(eventBatch.slice(i, i + MAX_BATCH_ITEMS), "import");
      if (r.errors.length > 0) throw describeErrors("events", r.errors);
      result.events += r.accepted + r.duplicates;
      result.alerts += r.alerts;
    }
    leadBatch = [];
    eventBatch = [];
  };

  for (const d of generateDemo({
    seed: opts.seed,
    leads: opts.leads,
    now,
    eventsPerLead: opts.eventsPerLead,
  })) {
    leadBatch.push(d.lead);
    for (const e of d.events) eventBatch.push(e);
    if (d.outcome) outcomes.push(d.outcome);
    if (leadBatch.length >= LOAD_BATCH_LEADS) await flush();
  }
  await flush();

  for (const o of outcomes) {
    await services.leads.recordOutcome({
      lead: o.email,
      outcome: o.outcome,
      by: o.by,
      source: "api",
      reason: o.reason,
      note: o.note,
    });
    result.outcomes++;
  }
  return result;
}

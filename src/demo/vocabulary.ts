import type { Seniority } from "./types.js";

/**
 * The words and weighted tables the demo leads are drawn from: companies, industries, sizes,
 * countries, names, departments, titles and sources. Over 400 lines because it is data only,
 * one entry per line as the formatter lays it out; splitting it would only scatter the tables.
 */

/** Demo sales reps who own worked leads; valid Slack user ids in a range no real workspace uses. */
export const DEMO_REPS = ["U0DEMOREP1", "U0DEMOREP2", "U0DEMOREP3", "U0DEMOREP4", "U0DEMOREP5"];
/** Records outcomes on leads no rep owns. */
export const DEMO_USER = "U0DEMO001";

export interface IndustryProfile {
  /** How well the industry buys a sales tool, 0..1. */
  fit: number;
  /** Median annual revenue per employee, USD; null where revenue is not meaningful. */
  revenuePerEmployee: number | null;
  suffixes: readonly string[];
}

export const INDUSTRIES: Record<string, IndustryProfile & { weight: number }> = {
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
export const INDUSTRY_WEIGHTS = Object.entries(INDUSTRIES).map(
  ([name, p]) => [name, p.weight] as const,
);

export const COMPANY_STEMS = [
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
export const SIZE_BANDS = [
  [[1, 10], 18],
  [[11, 50], 24],
  [[51, 200], 23],
  [[201, 1000], 19],
  [[1001, 5000], 11],
  [[5001, 50000], 5],
] as const;

export const COUNTRIES = [
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
export const CORE_MARKETS = new Set(["US", "GB", "CA", "DE", "NL", "AU", "IE", "SE", "FR"]);

export const FIRST_NAMES = [
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
export const LAST_NAMES = [
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

export const FREE_EMAIL_DOMAINS = [
  "gmail.com",
  "yahoo.com",
  "outlook.com",
  "hotmail.com",
  "icloud.com",
];

export type Department =
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
export const DEPARTMENTS: readonly (readonly [Department, number, number])[] = [
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

export const SENIORITY_FIT: Record<Seniority, number> = {
  c_level: 0.9,
  vp: 1,
  director: 0.85,
  manager: 0.6,
  ic: 0.3,
  student: 0,
};

export const C_TITLES: Record<Department, readonly string[]> = {
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

export const AREA: Record<Department, string> = {
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

export const IC_TITLES: Record<Department, readonly string[]> = {
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

export const SOURCES = [
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
export const WARM_SOURCES = new Set(["referral", "event", "partner"]);

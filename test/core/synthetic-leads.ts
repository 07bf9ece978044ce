import { DAY_MS } from "../../src/core/engine.js";
import type { LearnExample } from "../../src/core/learn/features.js";
import { seededRandom } from "../../src/core/learn/folds.js";
import type { ActivityEvent } from "../../src/core/model.js";

/**
 * Leads whose chance of winning is known: software companies, 200–2000 employees and a demo
 * request raise the log-odds by fixed amounts; country, source, page views, email opens and the
 * `noise_*` attributes do nothing.
 */
export const TRUE_LOG_ODDS = { base: -2.4, software: 1.3, midSize: 1.1, demo: 1.6 };

const INDUSTRIES = ["Software", "Retail", "Healthcare", "Manufacturing", "Education", "Finance"];
const COUNTRIES = ["US", "DE", "FR", "GB", "BR"];
const SOURCES = ["web", "event", "referral", "paid"];
const NOISE_VALUES = ["alpha", "beta", "gamma", "delta"];

export interface SyntheticOptions {
  seed: number;
  leads: number;
  now: number;
  /** Attribute columns with no effect: half categories, half numbers. */
  noiseColumns?: number;
  /** Share of leads that have an outcome. */
  labelledShare?: number;
}

function poisson(rand: () => number, mean: number): number {
  const l = Math.exp(-mean);
  let k = 0;
  let p = rand();
  while (p > l) {
    k++;
    p *= rand();
  }
  return k;
}

export function syntheticLeads(options: SyntheticOptions): LearnExample[] {
  const rand = seededRandom(options.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const out: LearnExample[] = [];
  for (let i = 0; i < options.leads; i++) {
    const industry = pick(INDUSTRIES);
    const employees = Math.round(5 * 4000 ** rand());
    const attributes: Record<string, unknown> = {};
    for (let k = 0; k < (options.noiseColumns ?? 2); k++) {
      attributes[`noise_${k}`] = k % 2 === 0 ? pick(NOISE_VALUES) : Math.round(rand() * 1000);
    }
    const events: ActivityEvent[] = [];
    const add = (type: string, count: number, properties?: Record<string, unknown>) => {
      for (let e = 0; e < count; e++) {
        events.push({ type, at: options.now - rand() * 60 * DAY_MS, properties });
      }
    };
    const demo = rand() < 0.25;
    if (demo) add("demo_request", 1 + (rand() < 0.3 ? 1 : 0));
    add("page_view", poisson(rand, 3), { url: pick(["/blog", "/pricing", "/product", "/docs"]) });
    add("email_open", poisson(rand, 2));
    const logOdds =
      TRUE_LOG_ODDS.base +
      (industry === "Software" ? TRUE_LOG_ODDS.software : 0) +
      (employees >= 200 && employees <= 2000 ? TRUE_LOG_ODDS.midSize : 0) +
      (demo ? TRUE_LOG_ODDS.demo : 0);
    const won = rand() < 1 / (1 + Math.exp(-logOdds));
    const labelled = rand() < (options.labelledShare ?? 1);
    out.push({
      lead: {
        email: `lead${i}@example${i % 97}.com`,
        title: pick(["VP Sales", "Director of IT", "Engineer", "CTO", "Analyst"]),
        industry,
        employees,
        country: pick(COUNTRIES),
        source: pick(SOURCES),
        attributes,
      },
      events,
      outcome: labelled ? (won ? "won" : rand() < 0.7 ? "lost" : "not_a_fit") : null,
      at: options.now,
    });
  }
  return out;
}

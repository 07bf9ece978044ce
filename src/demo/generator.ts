import { behaviour } from "./behaviour.js";
import { outcomeFor } from "./outcomes.js";
import { clamp01, Rng, streamSeed } from "./random.js";
import type { DemoEventInput, DemoLead, DemoLeadInput, DemoOptions, Seniority } from "./types.js";
import {
  AREA,
  C_TITLES,
  COMPANY_STEMS,
  CORE_MARKETS,
  COUNTRIES,
  DEMO_REPS,
  DEPARTMENTS,
  type Department,
  FIRST_NAMES,
  FREE_EMAIL_DOMAINS,
  IC_TITLES,
  INDUSTRIES,
  INDUSTRY_WEIGHTS,
  type IndustryProfile,
  LAST_NAMES,
  SENIORITY_FIT,
  SIZE_BANDS,
  SOURCES,
  WARM_SOURCES,
} from "./vocabulary.js";

/**
 * The demo data set: realistic B2B leads, their behaviour and their outcomes, generated from a
 * seed. Every lead carries a hidden fit and intent; behaviour follows intent, intent follows fit,
 * and outcomes follow both, so a sensible scoring model ranks the demo data the way it ranks real
 * data. The generator is pure and lazy (benchmarks stream millions of leads through it);
 * `loadDemoData` feeds it through the same services the API uses.
 *
 * What truly drives conversion: won = sigmoid(-5.5 + 3.5 fit + 4 intent), for worked leads only
 * (engaged, 60% of them); fit < 0.38 mostly closes as not a fit. Won-rate lift, with vs without,
 * measured on seed 3 with 60k leads:
 * - fields (fit): `title` seniority (VP 5.8x, director 3.1x, C-level 2.9x; IC 0.03x, student ~0)
 *   and department (also `attributes.department`: sales 2.4x, marketing 1.9x; engineering,
 *   finance, HR ~0.1x), a free-mail `email` domain 0.2x, `employees` 51-1000 1.8x (1-10 0.5x),
 *   `industry` software 1.5x (government, energy, education ~0.6x), `country` in a core market;
 *   `source` partner 1.9x, event 1.6x, referral 1.5x (warm sources raise intent).
 * - events (intent), strongest first: `demo_request` 5.8x, `page_view` of /pricing 5.3x,
 *   `meeting_booked` 5.0x, `trial_start` 4.4x, `email_click` 4.3x, `content_download` 2.4x,
 *   `webinar_attend` 2.2x; `unsubscribe` 0.6x.
 * Names, company names, externalId, campaigns and assets carry no signal.
 */

/** Average events per lead when the caller does not say. */
export const DEFAULT_EVENTS_PER_LEAD = 8;

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

import type { Rng } from "./random.js";

/** Behaviour simulation: a lead's events, drawn from its hidden intent. */

const DAY = 86_400_000;
/** How far back the demo behaviour reaches. */
const HISTORY_DAYS = 120;
/** Upper bound on one lead's events, so a heavy-tailed draw cannot produce a pathological lead. */
const MAX_EVENTS_PER_LEAD = 200;
/** Mean of the intent the generator draws, measured over 100k leads; keeps the event mean on target. */
const INTENT_MEAN = 0.26;
/** The demo company's own website, where page views happen. */
const SITE = "https://www.example.com";

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

export function pageUrl(rng: Rng, intent: number, jobSeeker: boolean): string {
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

export interface Draft {
  type: string;
  /** Milliseconds before `now`. */
  ago: number;
  properties: Record<string, unknown>;
}

/** The lead's behaviour as offsets before `now`, in generation order (ids follow this order). */
export function behaviour(
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

/** The demo data set: a seeded generator of leads, behaviour and outcomes, and its loader. */
export { DEFAULT_EVENTS_PER_LEAD, demoEvents, demoLeads, generateDemo } from "./generator.js";
export { type DemoLoadOptions, type DemoLoadResult, loadDemoData } from "./load.js";
export { mulberry32 } from "./random.js";
export type {
  DemoEventInput,
  DemoLead,
  DemoLeadInput,
  DemoOptions,
  DemoOutcome,
  Seniority,
} from "./types.js";
export { DEMO_REPS, DEMO_USER } from "./vocabulary.js";

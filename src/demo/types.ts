import type { OutcomeKind } from "../services/team.js";

/** The shapes of the demo data set, shared by the generator, its parts and the loader. */

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

import type { BreakdownEntry } from "../../src/core/model.js";
import type { DbOrTx } from "../../src/db/client.js";
import { alertOutbox, leadScores, leads, stageTransitions } from "../../src/db/schema.js";

type NewLead = typeof leads.$inferInsert;
type NewScore = typeof leadScores.$inferInsert;
type NewAlert = typeof alertOutbox.$inferInsert;

let seq = 0;
function next(): number {
  seq += 1;
  return seq;
}

export function buildLead(overrides: Partial<NewLead> = {}): NewLead {
  const n = next();
  return {
    email: `lead${n}@example${n}.com`,
    firstName: "Jane",
    lastName: `Doe ${n}`,
    title: "VP Sales",
    company: `Acme ${n}`,
    industry: "software",
    employees: 250,
    country: "US",
    source: "web",
    ...overrides,
  };
}

export function buildBreakdown(): BreakdownEntry[] {
  return [
    { ruleId: "title_vp", label: "VP title", group: "fit", count: 1, basePoints: 15, points: 15 },
    {
      ruleId: "demo_request",
      label: "Requested a demo",
      group: "engagement",
      count: 1,
      basePoints: 30,
      points: 28.4,
    },
    {
      ruleId: "pricing_view",
      label: "Viewed pricing",
      group: "engagement",
      count: 3,
      basePoints: 15,
      points: 12,
    },
    {
      ruleId: "size_mid",
      label: "200-1000 employees",
      group: "fit",
      count: 1,
      basePoints: 10,
      points: 10,
    },
    {
      ruleId: "webinar",
      label: "Attended a webinar",
      group: "engagement",
      count: 1,
      basePoints: 8,
      points: 6,
    },
    {
      ruleId: "email_open",
      label: "Opened emails",
      group: "engagement",
      count: 4,
      basePoints: 4,
      points: 2,
    },
    {
      ruleId: "gmail",
      label: "Free email domain",
      group: "fit",
      count: 1,
      basePoints: -10,
      points: -10,
    },
  ];
}

export function buildScore(leadId: number, overrides: Partial<NewScore> = {}): NewScore {
  return {
    leadId,
    modelVersion: 1,
    total: 63.4,
    fit: 15,
    engagement: 48.4,
    grade: "B",
    level: 2,
    stage: "sql",
    breakdown: buildBreakdown(),
    activity: { rules: {}, lastEventAt: null },
    scoredAt: new Date(),
    ...overrides,
  };
}

export interface AlertFixture {
  leadId: number;
  transitionId: number;
  alertId: number;
}

/** A lead with a score, the transition that crossed a threshold, and its outbox row. */
export async function insertAlert(
  db: DbOrTx,
  opts: {
    lead?: Partial<NewLead>;
    score?: Partial<NewScore>;
    alert?: Partial<Omit<NewAlert, "leadId" | "transitionId">>;
  } = {},
): Promise<AlertFixture> {
  const [lead] = await db.insert(leads).values(buildLead(opts.lead)).returning({ id: leads.id });
  if (!lead) throw new Error("lead not inserted");
  const score = buildScore(lead.id, opts.score);
  await db.insert(leadScores).values(score);
  const stage = opts.alert?.stage ?? score.stage;
  const [transition] = await db
    .insert(stageTransitions)
    .values({
      leadId: lead.id,
      fromStage: stage === "sql" ? "mql" : "lead",
      toStage: stage,
      total: score.total,
      modelVersion: score.modelVersion,
      cause: "events",
      at: new Date(),
    })
    .returning({ id: stageTransitions.id });
  if (!transition) throw new Error("transition not inserted");
  const [alert] = await db
    .insert(alertOutbox)
    .values({
      leadId: lead.id,
      transitionId: transition.id,
      stage,
      dmUser: opts.lead?.owner ?? null,
      ...opts.alert,
    })
    .returning({ id: alertOutbox.id });
  if (!alert) throw new Error("alert not inserted");
  return { leadId: lead.id, transitionId: transition.id, alertId: alert.id };
}

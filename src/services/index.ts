import type { Impact } from "../core/impact.js";
import type { ScoringModel, Stage } from "../core/model.js";
import type { Database } from "../db/client.js";
import {
  type AlertLead,
  type AwaitingFeedback,
  alertById,
  awaitingFeedback,
  latestPostedAlert,
  loadAlertLead,
  markPendingDelivered,
  type PostedAlert,
  pendingAlertCount,
} from "../db/queries/alerts.js";
import { claimTick, finishTick } from "../db/queries/jobs.js";
import { countLeads } from "../db/queries/leads.js";
import { ping } from "../db/queries/stats.js";
import type { Logger } from "../lib/logger.js";
import { type Explanation, explainLead } from "./explain.js";
import {
  type EventBatchResult,
  type LeadBatchResult,
  recordEvents,
  upsertLeads,
} from "./ingest.js";
import type { ItemError } from "./inputs.js";
import {
  eraseLead,
  findLeads,
  getLead,
  type LeadDetail,
  type LeadSummary,
  resolveLeadId,
  stageCounts,
  type TopOptions,
  topLeads,
} from "./leads.js";
import {
  type ActiveModel,
  activeModel,
  ensureModel,
  listModelVersions,
  modelByVersion,
  versionApprovedBy,
} from "./models.js";
import {
  checkDecider,
  checkProposalAllowance,
  createProposal,
  type Decision,
  type DecisionResult,
  decideProposal,
  getProposal,
  measureImpact,
  type Preview,
  type ProposalMessage,
  type ProposalRow,
  type ProposedChange,
  pendingProposals,
  previewChange,
  proposalMessages,
  recordProposalMessages,
} from "./proposals.js";
import { type EventReceipts, eventReceipts } from "./receipts.js";
import { type RescoreResult, rescoreAll } from "./rescore.js";
import type { ScoreCause, ScoreSummary } from "./scoring.js";
import { identifyToLead, segmentMessageSchema, segmentToEvent } from "./segment.js";
import {
  type AssignResult,
  type AuditRow,
  assignLead,
  auditHistory,
  grantRole,
  listRoles,
  managers,
  type OutcomeInput,
  type OutcomeResult,
  type Role,
  recordOutcome,
  roleOf,
  type Stats,
  teamStats,
} from "./team.js";
import { createToken, listTokens, revokeToken, verifyToken } from "./tokens.js";

/**
 * The use cases, one object per aggregate. Adapters (Slack, HTTP, CLI, jobs) reach the store
 * only through these, so every capability has one code path and writes the same audit rows.
 */
export interface Services {
  logger: Logger;
  clock: () => number;
  upsertLeads(items: readonly unknown[], cause?: ScoreCause): Promise<LeadBatchResult>;
  recordEvents(items: readonly unknown[], cause?: ScoreCause): Promise<EventBatchResult>;
  ingestSegment(messages: readonly unknown[]): Promise<SegmentResult>;
  rescoreAll(cause: ScoreCause): Promise<RescoreResult>;
  /** Subscribes to "alerts were queued" (the dispatcher wakes on it). */
  onAlerts(listener: (count: number) => void): void;
  /** Rejects when the database does not answer or holds no model. */
  health(): Promise<Health>;
  metricsSnapshot(): Promise<MetricsSnapshot>;
  leads: {
    resolveId(key: string): Promise<number>;
    get(key: string): Promise<LeadDetail>;
    top(opts: TopOptions): Promise<LeadSummary[]>;
    find(text: string, limit?: number): Promise<LeadSummary[]>;
    count(): Promise<number>;
    stageCounts(): Promise<Record<Stage, number>>;
    /** Every point of the score with the rule that gave it, as of now. */
    explain(key: string): Promise<Explanation>;
    erase(key: string, actor: string): Promise<{ id: number }>;
    assign(p: {
      lead: string | number;
      owner: string;
      by: string;
      claim?: boolean;
    }): Promise<AssignResult>;
    recordOutcome(p: OutcomeInput): Promise<OutcomeResult>;
  };
  models: {
    active(): Promise<ActiveModel>;
    byVersion(version: number): Promise<ScoringModel>;
    versions(limit?: number): Promise<Awaited<ReturnType<typeof listModelVersions>>>;
    /** Loads the default (or given) model file when the store has none. */
    ensure(file?: string): Promise<ActiveModel>;
    /** The version a proposal's approval activated. */
    approvedBy(proposalId: number): Promise<number | undefined>;
  };
  proposals: {
    preview(change: ProposedChange): Promise<Preview>;
    measureImpact(current: ScoringModel, proposed: ScoringModel): Promise<Impact>;
    create(p: {
      change: ProposedChange;
      by: string;
      note?: string | undefined;
    }): Promise<{ proposal: ProposalRow; preview: Preview }>;
    /** Rejects (rate_limited) when `by` made as many proposals this hour as allowed. */
    checkAllowance(by: string): Promise<void>;
    get(id: number): Promise<ProposalRow>;
    pending(): Promise<ProposalRow[]>;
    /** Why `by` may not make this decision (audited as a refusal); undefined when they may. */
    refusal(p: {
      id: number;
      by: string;
      decision: Decision;
    }): Promise<DomainErrorLike | undefined>;
    /** Approves or rejects; refusals and the rescore after an approval are audited. */
    decide(p: {
      id: number;
      by: string;
      decision: Decision;
      note?: string | undefined;
    }): Promise<DecisionResult>;
    /** Where a proposal was posted, kept so the messages can be rewritten once it is decided. */
    recordMessages(id: number, messages: readonly ProposalMessage[]): Promise<void>;
    messages(id: number): Promise<ProposalMessage[]>;
  };
  team: {
    roleOf(userId: string): Promise<Role>;
    managers(): Promise<string[]>;
    roles(): Promise<Awaited<ReturnType<typeof listRoles>>>;
    grantRole(p: { by: string; userId: string; role: Role }): Promise<void>;
    history(limit?: number, actions?: string[]): Promise<AuditRow[]>;
    stats(): Promise<Stats>;
  };
  alerts: {
    byId(id: number): Promise<PostedAlert | undefined>;
    /** The newest alert about a lead that reached the channel: the one an outcome updates. */
    latestPosted(leadId: number): Promise<PostedAlert | undefined>;
    /** What an alert shows about its lead, read now. */
    lead(leadId: number): Promise<AlertLead | undefined>;
    awaitingFeedback(userId: string, limit: number): Promise<AwaitingFeedback[]>;
    pendingCount(): Promise<number>;
    /** Marks every queued alert delivered without posting it (demo data loaded at start). */
    markPendingDelivered(note: string): Promise<void>;
  };
  tokens: {
    create(
      name: string,
      actor?: string,
    ): Promise<{ id?: number; name?: string; createdAt?: Date; token: string }>;
    revoke(id: number, actor?: string): Promise<void>;
    list(): ReturnType<typeof listTokens>;
    /** The token's name, or undefined when it is unknown or revoked. */
    verify(token: string, bootstrap?: string): Promise<string | undefined>;
  };
  /** Slack Events API receipts: each event id is handled once. */
  slackEvents: EventReceipts;
  /** Ticks of scheduled jobs, claimed once across instances. */
  jobs: {
    claimTick(job: string, tick: Date, instance: string): Promise<boolean>;
    finishTick(job: string, tick: Date, ok: boolean, detail?: string): Promise<void>;
  };
}

type DomainErrorLike = Awaited<ReturnType<typeof checkDecider>>;

export interface Health {
  database: Database["kind"];
  modelVersion: number;
}

export interface MetricsSnapshot {
  stages: Record<Stage, number>;
  alertsPending: number;
}

export interface SegmentResult {
  leads: number;
  events: number;
  duplicates: number;
  errors: ItemError[];
}

export interface ServicesOptions {
  database: Database;
  logger: Logger;
  clock?: (() => number) | undefined;
  /** LEADBOT_ADMINS: admins from the first start, whatever the roles table says. */
  admins?: readonly string[] | undefined;
  /** LEADBOT_PROPOSALS_PER_HOUR: proposals one person may make in an hour (default 5). */
  proposalsPerHour?: number | undefined;
}

export function createServices(opts: ServicesOptions): Services {
  const listeners: ((n: number) => void)[] = [];
  const clock = opts.clock ?? Date.now;
  const db = opts.database.db;
  const admins = opts.admins ?? [];
  const perHour = opts.proposalsPerHour ?? 5;
  const ctx = () => ({
    db,
    now: clock(),
    onAlerts: (n: number) => {
      for (const l of listeners) l(n);
    },
  });
  const services: Services = {
    logger: opts.logger,
    clock,
    upsertLeads: (items, cause) => upsertLeads(ctx(), items, cause),
    recordEvents: (items, cause) => recordEvents(ctx(), items, cause),
    async ingestSegment(messages) {
      const result: SegmentResult = { leads: 0, events: 0, duplicates: 0, errors: [] };
      const leadItems: { index: number; item: unknown }[] = [];
      const eventItems: { index: number; item: unknown }[] = [];
      messages.forEach((raw, index) => {
        const parsed = segmentMessageSchema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          result.errors.push({
            index,
            field: issue?.path.join(".") || "type",
            reason:
              issue?.code === "invalid_union"
                ? "type must be identify, track or page"
                : (issue?.message ?? "invalid message"),
          });
          return;
        }
        const m = parsed.data;
        if (m.type === "identify") leadItems.push({ index, item: identifyToLead(m) });
        else eventItems.push({ index, item: segmentToEvent(m) });
      });
      // Identify first, so traits land before the events that score them.
      if (leadItems.length > 0) {
        const r = await services.upsertLeads(leadItems.map((l) => l.item));
        result.leads = r.leads.length;
        for (const e of r.errors)
          result.errors.push({ ...e, index: leadItems[e.index]?.index ?? e.index });
      }
      if (eventItems.length > 0) {
        const r = await services.recordEvents(eventItems.map((e) => e.item));
        result.events = r.accepted;
        result.duplicates = r.duplicates;
        for (const e of r.errors)
          result.errors.push({ ...e, index: eventItems[e.index]?.index ?? e.index });
      }
      result.errors.sort((a, b) => a.index - b.index);
      return result;
    },
    rescoreAll: (cause) => rescoreAll(db, { now: clock(), cause }),
    onAlerts(listener) {
      listeners.push(listener);
    },
    async health() {
      await ping(db);
      const { version } = await activeModel(db);
      return { database: opts.database.kind, modelVersion: version };
    },
    async metricsSnapshot() {
      const [stages, alertsPending] = await Promise.all([stageCounts(db), pendingAlertCount(db)]);
      return { stages, alertsPending };
    },
    leads: {
      resolveId: (key) => resolveLeadId(db, key),
      get: (key) => getLead(db, key),
      top: (o) => topLeads(db, o),
      find: (text, limit) => findLeads(db, text, limit),
      count: () => countLeads(db),
      stageCounts: () => stageCounts(db),
      explain: (key) => explainLead(db, key, clock()),
      erase: (key, actor) => eraseLead(db, key, actor),
      assign: (p) => assignLead(db, p, admins),
      recordOutcome: (p) => recordOutcome(db, p, admins),
    },
    models: {
      active: () => activeModel(db),
      byVersion: (version) => modelByVersion(db, version),
      versions: (limit) => listModelVersions(db, limit),
      ensure: (file) => ensureModel(db, file),
      approvedBy: (proposalId) => versionApprovedBy(db, proposalId),
    },
    proposals: {
      preview: (change) => previewChange(db, change, clock()),
      measureImpact: (current, proposed) => measureImpact(db, current, proposed, clock()),
      create: (p) => createProposal(db, { ...p, now: clock(), perHour }),
      checkAllowance: (by) => checkProposalAllowance(db, { by, perHour }),
      get: (id) => getProposal(db, id),
      pending: () => pendingProposals(db),
      refusal: (p) => checkDecider(db, { ...p, admins }),
      decide: (p) =>
        decideProposal(db, {
          id: p.id,
          by: p.by,
          decision: p.decision,
          admins,
          now: clock(),
          ...(p.note ? { note: p.note } : {}),
        }),
      recordMessages: (id, messages) => recordProposalMessages(db, id, messages),
      messages: (id) => proposalMessages(db, id),
    },
    team: {
      roleOf: (userId) => roleOf(db, userId, admins),
      managers: () => managers(db, admins),
      roles: () => listRoles(db),
      grantRole: (p) => grantRole(db, { ...p, admins }),
      history: (limit, actions) => auditHistory(db, limit, actions),
      stats: () => teamStats(db, clock()),
    },
    alerts: {
      byId: (id) => alertById(db, id),
      latestPosted: (leadId) => latestPostedAlert(db, leadId),
      lead: (leadId) => loadAlertLead(db, leadId),
      awaitingFeedback: (userId, limit) => awaitingFeedback(db, userId, limit),
      pendingCount: () => pendingAlertCount(db),
      markPendingDelivered: (note) => markPendingDelivered(db, { note }),
    },
    tokens: {
      create: (name, actor) => createToken(db, name, actor),
      revoke: (id, actor) => revokeToken(db, id, actor),
      list: () => listTokens(db),
      verify: (token, bootstrap) => verifyToken(db, token, bootstrap),
    },
    slackEvents: eventReceipts(db),
    jobs: {
      claimTick: (job, tick, instance) => claimTick(db, { job, tick, instance }),
      finishTick: (job, tick, ok, detail) => finishTick(db, { job, tick, ok, detail }),
    },
  };
  return services;
}

export type {
  AlertLead,
  AuditRow,
  AwaitingFeedback,
  Explanation,
  LeadDetail,
  LeadSummary,
  PostedAlert,
  ProposalMessage,
  ProposalRow,
  Role,
  ScoreSummary,
  Stats,
};

// Over 400 lines on purpose: the one place where every use case is bound to the database and the
// clock; it holds wiring only, each use case lives in its own module.
import type { Impact } from "../core/impact.js";
import type { ScoringModel, Stage } from "../core/model.js";
import type { Database } from "../db/client.js";
import {
  type AlertLead,
  type AwaitingFeedback,
  alertById,
  awaitingFeedback,
  latestPostedAlert,
  markPendingDelivered,
  type PostedAlert,
  pendingAlertCount,
} from "../db/queries/alerts.js";
import { markPendingSummariesDelivered } from "../db/queries/bursts.js";
import { claimTick, finishTick } from "../db/queries/jobs.js";
import { countLeads } from "../db/queries/leads.js";
import { markBacklog } from "../db/queries/marks.js";
import { ping } from "../db/queries/stats.js";
import { InFlight } from "../lib/in-flight.js";
import type { Logger } from "../lib/logger.js";
import { type BurstLeadPage, burstLeadPage, DEFAULT_ALERT_BURST } from "./bursts.js";
import { queueDigest, queueReminders } from "./digest.js";
import { type EventStoreResult, type Month, maintainEventStore } from "./event-store.js";
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
  activeModels,
  ensureModel,
  listModelVersions,
  modelByVersion,
  modelHistory,
  type VersionHistory,
  versionApprovedBy,
} from "./models.js";
import {
  type OutcomeBatchResult,
  type OutcomeSource,
  type ReopenResult,
  recordOutcomes,
  reopenLead,
} from "./outcomes.js";
import {
  checkDecider,
  checkProposalAllowance,
  claimAnnouncement,
  claimUnannounced,
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
import {
  type RescoreResult,
  type ResumeResult,
  refreshDue,
  rescoreAll,
  resumeRescores,
} from "./rescore.js";
import {
  type ApplyResult,
  applyRoutingText,
  type RoutingOverview,
  routingOverview,
  setAway,
} from "./routing.js";
import { createScorer } from "./scorer.js";
import { alertLead, type ScoreCause, type ScoreSummary } from "./scoring.js";
import {
  type LeadFilters,
  lastFilters,
  listViews,
  rememberFilters,
  type SearchPage,
  saveView,
  searchLeads,
  viewOf,
} from "./search.js";
import { identifyToLead, segmentMessageSchema, segmentToEvent } from "./segment.js";
import { gatherStats, type Period, RecentStats, type StatsReport } from "./stats.js";
import {
  type Learned,
  learnedOf,
  type SuggestResult,
  suggestModelChange,
  type WeeklyResult,
  weeklySuggestion,
} from "./suggestions.js";
import { createSuppression, unsuppress } from "./suppression.js";
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
import { createTokenVerifier } from "./token-cache.js";
import {
  type ApiCaller,
  createToken,
  listTokens,
  revokeToken,
  type Scope,
  setTokenScopes,
} from "./tokens.js";

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
  /** The hourly decay refresh: rescores only the leads decay has made due (see refreshDue). */
  refreshDecay(): Promise<RescoreResult>;
  /**
   * Finishes the rescores a killed process left half done (at start, and before `leadbot
   * rescore`). With `lapsedOnly`, only runs whose holder stopped renewing its claim (the app
   * looks every minute): on PGlite too, where at start every unfinished run is taken.
   */
  resumeRescores(opts?: { lapsedOnly?: boolean }): Promise<ResumeResult>;
  /** Subscribes to "alerts were queued" (the dispatcher wakes on it). */
  onAlerts(listener: (count: number) => void): void;
  /** Scoring of accepted events, which `recordEvents` leaves to the scorer. */
  scoring: {
    /** Scores every event accepted before the call; for callers that read scores right after. */
    flush(): Promise<ScoreSummary>;
    /** Accepted events not yet scored: marks (one per lead and insert). */
    backlog(): Promise<number>;
    /** Runs the scorer of this instance in the background (the app does, in every instance). */
    start(): void;
    stop(): Promise<void>;
    /** This instance's background looks for accepted events: found some, found none. */
    looks(): { found: number; empty: number };
  };
  /** Rejects when the database does not answer or holds no model. */
  health(): Promise<Health>;
  metricsSnapshot(): Promise<MetricsSnapshot>;
  leads: {
    resolveId(key: string): Promise<number>;
    /**
     * The lead as stored; with `waitMs`, its accepted events are scored first (waiting at most
     * that long for a scorer that holds them; then it answers `scoring: "pending"`).
     */
    get(key: string, opts?: { waitMs?: number }): Promise<LeadDetail>;
    top(opts: TopOptions): Promise<LeadSummary[]>;
    find(text: string, limit?: number): Promise<LeadSummary[]>;
    /** Leads matching filters, best first: the modal, `GET /api/v1/leads` and `leadbot top`. */
    search(filters: LeadFilters, page: SearchPage): Promise<LeadSummary[]>;
    count(): Promise<number>;
    stageCounts(): Promise<Record<Stage, number>>;
    /** Every point of the score with the rule that gave it, as of now. */
    explain(key: string): Promise<Explanation>;
    /** Erases a lead (email, id: or ext: only), in Slack too, and suppresses the person. */
    erase(key: string, actor: string): Promise<{ id: number; messages: number }>;
    /** Lifts the suppression of an email or `ext:X`, so the person may be recorded again. */
    unsuppress(target: string, actor: string): Promise<{ removed: number }>;
    assign(p: {
      lead: string | number;
      owner: string;
      by: string;
      claim?: boolean;
    }): Promise<AssignResult>;
    recordOutcome(p: OutcomeInput): Promise<OutcomeResult>;
    /** Outcomes from a CRM (API, CSV): each item on its own, idempotent per lead, outcome, time. */
    recordOutcomes(
      items: readonly unknown[],
      p: { by: string; source: OutcomeSource },
    ): Promise<OutcomeBatchResult>;
    /** Puts a won or not-a-fit lead back among those alerted on. */
    reopen(p: { lead: string | number; by: string; source: OutcomeSource }): Promise<ReopenResult>;
  };
  /** Outcome metrics for a period: conversion by band and grade, funnel, AUC. */
  stats(period: Period): Promise<StatsReport>;
  /** The same, computed at most once a minute per period: for pages opened all day (App Home). */
  recentStats(period: Period): Promise<StatsReport>;
  models: {
    /** A model's active version: the default model's unless a key is given. */
    active(key?: string): Promise<ActiveModel>;
    /** Every active model, in the order leads are offered to them (the default model last). */
    list(): Promise<readonly ActiveModel[]>;
    byVersion(version: number): Promise<ScoringModel>;
    versions(limit?: number): Promise<Awaited<ReturnType<typeof listModelVersions>>>;
    /** Loads the default (or given) model file when the store has none. */
    ensure(file?: string): Promise<ActiveModel>;
    /** The version a proposal's approval activated. */
    approvedBy(proposalId: number): Promise<number | undefined>;
    /** Versions newest first: who proposed and approved each, when, and what it changed. */
    history(limit?: number): Promise<VersionHistory[]>;
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
    /** Subscribes to "a proposal was stored" (the announcer wakes on it). */
    onCreated(listener: (id: number) => void): void;
    /** Pending proposals nobody has posted yet, each claimed by one caller only. */
    claimUnannounced(): Promise<ProposalRow[]>;
    /** Claims one proposal for posting; false when another caller has it. */
    claimAnnouncement(id: number): Promise<boolean>;
  };
  /** Named lead filters per person, and the filters each used last. */
  views: {
    save(userId: string, name: string, filters: LeadFilters): Promise<void>;
    get(userId: string, name: string): Promise<LeadFilters>;
    names(userId: string): Promise<string[]>;
    last(userId: string): Promise<LeadFilters | undefined>;
    remember(userId: string, filters: LeadFilters): Promise<void>;
  };
  /** Rules that give qualified leads an owner, and who is away. */
  routing: {
    /** `operator`: the CLI, run by whoever runs the app; Slack callers must be admins. */
    apply(p: { text: string; by: string; operator?: boolean }): Promise<ApplyResult>;
    overview(): Promise<RoutingOverview>;
    setAway(p: { userId: string; until: Date | null; by: string }): Promise<void>;
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
    /** A page of the leads one summarised change moved (one owner's when given). */
    burstLeads(p: {
      burstId: number;
      owner?: string | undefined;
      offset: number;
      limit: number;
    }): Promise<BurstLeadPage>;
  };
  tokens: {
    create(
      name: string,
      actor?: string,
      scopes?: readonly Scope[],
    ): Promise<{
      id?: number;
      name?: string;
      scopes?: string[];
      createdAt?: Date;
      token: string;
    }>;
    revoke(id: number, actor?: string): Promise<void>;
    /** Replaces an active token's scopes; every instance enforces them from the commit on. */
    setScopes(
      id: number,
      scopes: readonly Scope[],
      actor?: string,
    ): Promise<{ id: number; before: string[]; scopes: Scope[] }>;
    list(): ReturnType<typeof listTokens>;
    /** The token's name, id and scopes, or undefined when it is unknown or revoked. */
    verify(token: string, bootstrap?: string): Promise<ApiCaller | undefined>;
  };
  /** Models learned from outcomes, proposed like any other change. */
  suggestions: {
    /** Fits a suggestion and, unless `dryRun`, proposes it as `by`. */
    suggest(p: { by: string; dryRun?: boolean | undefined }): Promise<SuggestResult>;
    /** The evidence and backtest of a learned proposal; undefined for a hand-made one. */
    learned(proposalId: number): Promise<Learned | undefined>;
    /** Proposes a suggestion only when none is pending and it beats the current model by `margin`. */
    weekly(margin?: number): Promise<WeeklyResult>;
  };
  /** The weekly digest and the daily reminders, queued for the notice dispatcher. */
  notices: {
    /** Queues the digest of the last 7 days for `channel` and each manager; returns how many. */
    queueDigest(p: { tz: string; channel: string | undefined }): Promise<number>;
    /** Queues a reminder to each owner with alerts older than `days` and no outcome. */
    queueReminders(p: { tz: string; days: number }): Promise<number>;
  };
  /** Slack Events API receipts: each event id is handled once. */
  slackEvents: EventReceipts;
  /** The events table's monthly partitions and retention (the scheduler's event-store job). */
  eventStore: {
    /** Creates the partitions ahead, splits the default partition, applies the retention. */
    maintain(months?: readonly Month[]): Promise<EventStoreResult>;
  };
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
  /** Messages dropped because they name an erased (suppressed) person. */
  suppressed: number;
  errors: ItemError[];
}

export interface ServicesOptions {
  database: Database;
  logger: Logger;
  clock?: (() => number) | undefined;
  /** LEADBOT_ADMINS: admins from the first start, whatever the roles table says. */
  admins?: readonly string[] | undefined;
  /** LEADBOT_ALERT_BURST: above this many crossings from one change, one summary. */
  alertBurst?: number | undefined;
  /** LEADBOT_SUPPRESSION_KEY; unset, a key is generated once and kept in the database. */
  suppressionKey?: string | undefined;
  /** LEADBOT_PROPOSALS_PER_HOUR: proposals one person may make in an hour (default 5). */
  proposalsPerHour?: number | undefined;
  /** How often the scorer looks for events other instances accepted (tests may change it). */
  scoringPollMs?: number | undefined;
  /** LEADBOT_EVENT_RETENTION_DAYS: raw events older than this are dropped; unset keeps all. */
  eventRetentionDays?: number | undefined;
}

/** How long the App Home's metrics headline is reused before it is computed again. */
const RECENT_STATS_MS = 60_000;

export function createServices(opts: ServicesOptions): Services {
  const listeners: ((n: number) => void)[] = [];
  const proposalListeners: ((id: number) => void)[] = [];
  const clock = opts.clock ?? Date.now;
  const db = opts.database.db;
  const admins = opts.admins ?? [];
  const perHour = opts.proposalsPerHour ?? 5;
  const alertBurst = opts.alertBurst ?? DEFAULT_ALERT_BURST;
  const suppression = createSuppression(db, opts.suppressionKey);
  const wake = (n: number) => {
    for (const l of listeners) l(n);
  };
  const recentStats = new RecentStats(
    (period) => gatherStats(db, { period, now: clock() }),
    clock,
    RECENT_STATS_MS,
  );
  const tokenVerifier = createTokenVerifier(db, opts.database.notifications);
  // Event batches being accepted right now: the scorer's background rounds yield to them.
  const accepting = new InFlight();
  const scorer = createScorer({
    db,
    kind: opts.database.kind,
    clock,
    logger: opts.logger,
    onAlerts: wake,
    pollMs: opts.scoringPollMs,
    ingest: accepting,
  });
  const ctx = () => ({
    db,
    now: clock(),
    alertBurst,
    onAlerts: wake,
    onMarked: () => scorer.wake(),
    suppression,
  });
  const services: Services = {
    logger: opts.logger,
    clock,
    upsertLeads: (items, cause) => upsertLeads(ctx(), items, cause),
    recordEvents: (items, cause) => accepting.run(() => recordEvents(ctx(), items, cause)),
    async ingestSegment(messages) {
      const result: SegmentResult = {
        leads: 0,
        events: 0,
        duplicates: 0,
        suppressed: 0,
        errors: [],
      };
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
        result.suppressed += r.suppressed;
        for (const e of r.errors)
          result.errors.push({ ...e, index: leadItems[e.index]?.index ?? e.index });
      }
      if (eventItems.length > 0) {
        const r = await services.recordEvents(eventItems.map((e) => e.item));
        result.events = r.accepted;
        result.duplicates = r.duplicates;
        result.suppressed += r.suppressed;
        for (const e of r.errors)
          result.errors.push({ ...e, index: eventItems[e.index]?.index ?? e.index });
      }
      result.errors.sort((a, b) => a.index - b.index);
      return result;
    },
    rescoreAll: (cause) => rescoreAll(db, { now: clock(), cause, alertBurst }),
    refreshDecay: () => refreshDue(db, { now: clock(), cause: "decay", alertBurst }),
    resumeRescores: (o) =>
      resumeRescores(db, clock(), {
        ignoreClaims: !o?.lapsedOnly && opts.database.kind === "pglite",
        alertBurst,
      }),
    onAlerts(listener) {
      listeners.push(listener);
    },
    scoring: {
      flush: () => scorer.flush(),
      backlog: async () => (await markBacklog(db)).marks,
      start: () => scorer.start(),
      stop: () => scorer.stop(),
      looks: () => scorer.looks(),
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
      async get(key, o) {
        if (o?.waitMs !== undefined) await scorer.settle([await resolveLeadId(db, key)], o.waitMs);
        return getLead(db, key, clock());
      },
      top: (o) => topLeads(db, o),
      find: (text, limit) => findLeads(db, text, limit),
      search: (filters, page) => searchLeads(db, filters, page, clock()),
      count: () => countLeads(db),
      stageCounts: () => stageCounts(db),
      explain: (key) => explainLead(db, key, clock()),
      async erase(key, actor) {
        const erased = await eraseLead(db, suppression, key, actor);
        // The rewrites go out through the same dispatcher that delivers alerts.
        if (erased.messages > 0) wake(erased.messages);
        return erased;
      },
      unsuppress: (target, actor) => unsuppress(db, suppression, { target, actor }),
      assign: (p) => assignLead(db, p, admins),
      recordOutcome: (p) => recordOutcome(db, p, clock(), admins),
      recordOutcomes: (items, p) => recordOutcomes(db, items, { ...p, now: clock() }),
      reopen: (p) => reopenLead(db, p, clock()),
    },
    models: {
      active: (key) => activeModel(db, key),
      list: async () => (await activeModels(db)).ordered,
      byVersion: (version) => modelByVersion(db, version),
      versions: (limit) => listModelVersions(db, limit),
      ensure: (file) => ensureModel(db, file),
      approvedBy: (proposalId) => versionApprovedBy(db, proposalId),
      history: (limit) => modelHistory(db, limit),
    },
    proposals: {
      preview: (change) => previewChange(db, change, clock()),
      measureImpact: (current, proposed) => measureImpact(db, current, proposed, clock()),
      async create(p) {
        const created = await createProposal(db, { ...p, now: clock(), perHour });
        for (const l of proposalListeners) l(created.proposal.id);
        return created;
      },
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
          alertBurst,
          ...(p.note ? { note: p.note } : {}),
        }),
      recordMessages: (id, messages) => recordProposalMessages(db, id, messages),
      messages: (id) => proposalMessages(db, id),
      onCreated(listener) {
        proposalListeners.push(listener);
      },
      claimUnannounced: () => claimUnannounced(db, clock()),
      claimAnnouncement: (id) => claimAnnouncement(db, id, clock()),
    },
    views: {
      save: (userId, name, filters) => saveView(db, { userId, name, filters }),
      get: (userId, name) => viewOf(db, userId, name),
      names: (userId) => listViews(db, userId),
      last: (userId) => lastFilters(db, userId),
      remember: (userId, filters) => rememberFilters(db, userId, filters),
    },
    routing: {
      apply: (p) => applyRoutingText(db, { ...p, admins }),
      overview: () => routingOverview(db, clock()),
      setAway: (p) => setAway(db, { ...p, now: clock() }),
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
      lead: (leadId) => alertLead(db, leadId),
      awaitingFeedback: (userId, limit) => awaitingFeedback(db, userId, limit),
      pendingCount: () => pendingAlertCount(db),
      async markPendingDelivered(note) {
        await markPendingDelivered(db, { note });
        await markPendingSummariesDelivered(db, { note });
      },
      burstLeads: (p) => burstLeadPage(db, p),
    },
    stats: (period) => gatherStats(db, { period, now: clock() }),
    recentStats: (period) => recentStats.get(period),
    tokens: {
      create: (name, actor, scopes) => createToken(db, name, actor, scopes, tokenVerifier.changed),
      revoke: (id, actor) => revokeToken(db, id, actor, tokenVerifier.changed),
      setScopes: (id, scopes, actor) =>
        setTokenScopes(db, id, scopes, actor, tokenVerifier.changed),
      list: () => listTokens(db),
      verify: (token, bootstrap) => tokenVerifier.verify(token, bootstrap, clock()),
    },
    suggestions: {
      suggest: (p) => suggestModelChange(db, { ...p, now: clock() }),
      learned: (proposalId) => learnedOf(db, proposalId),
      weekly: (margin) => weeklySuggestion(db, { now: clock(), margin }),
    },
    notices: {
      queueDigest: async (p) =>
        queueDigest(db, { ...p, now: clock(), managers: await managers(db, admins) }),
      queueReminders: (p) => queueReminders(db, { ...p, now: clock() }),
    },
    slackEvents: eventReceipts(db),
    eventStore: {
      maintain: (months) =>
        maintainEventStore(db, { now: clock(), retentionDays: opts.eventRetentionDays, months }),
    },
    jobs: {
      claimTick: (job, tick, instance) => claimTick(db, { job, tick, instance }),
      finishTick: (job, tick, ok, detail) => finishTick(db, { job, tick, ok, detail }),
    },
  };
  return services;
}

export type {
  AlertLead,
  ApiCaller,
  ApplyResult,
  AuditRow,
  AwaitingFeedback,
  BurstLeadPage,
  Explanation,
  LeadDetail,
  LeadFilters,
  LeadSummary,
  Learned,
  PostedAlert,
  ProposalMessage,
  ProposalRow,
  Role,
  RoutingOverview,
  Scope,
  ScoreSummary,
  Stats,
  StatsReport,
  SuggestResult,
  VersionHistory,
  WeeklyResult,
};

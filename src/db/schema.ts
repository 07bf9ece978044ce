// Over 400 lines on purpose: drizzle-kit reads one schema module to generate migrations, and the
// foreign keys between tables read best side by side.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import type { Activity, BreakdownEntry, ScoringModel, Stage } from "../core/model.js";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });
const id = () => bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity();

export const leads = pgTable(
  "leads",
  {
    id: id(),
    email: text("email"),
    externalId: text("external_id"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    title: text("title"),
    company: text("company"),
    industry: text("industry"),
    employees: integer("employees"),
    annualRevenue: doublePrecision("annual_revenue"),
    country: text("country"),
    source: text("source"),
    owner: text("owner"),
    attributes: jsonb("attributes").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("leads_email_key").on(t.email),
    uniqueIndex("leads_external_id_key").on(t.externalId),
    index("leads_owner_idx").on(t.owner),
  ],
);

/**
 * Raw behaviour, append-only, partitioned by month of `occurred_at` (the partitions, the default
 * partition for months without one, and the conversion of an unpartitioned table are hand-written
 * SQL at the end of migration 0012; src/db/queries/event-partitions.ts keeps them). A unique key
 * on a partitioned table must hold the partition key, so `id` is kept once by `event_ids`.
 */
export const events = pgTable(
  "events",
  {
    id: text("id").notNull(),
    leadId: bigint("lead_id", { mode: "number" })
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    occurredAt: ts("occurred_at").notNull(),
    properties: jsonb("properties").$type<Record<string, unknown>>().notNull().default({}),
    receivedAt: ts("received_at").notNull().defaultNow(),
    /**
     * The insert that stored the event (one number per statement, from `event_batch_seq`): with
     * the lead it names the events an `event_marks` row stands for. Null for rows loaded before.
     */
    batch: bigint("batch", { mode: "number" }),
  },
  (t) => [
    index("events_lead_occurred_idx").on(t.leadId, t.occurredAt),
    index("events_batch_idx").on(t.batch, t.leadId).where(sql`batch is not null`),
  ],
);

/** Numbers event inserts; always increasing, so the oldest unscored insert is scored first. */
export const eventBatchSeq = pgSequence("event_batch_seq");

/**
 * Events accepted but not yet scored: one row per lead and insert, written in the insert's own
 * transaction and deleted in the transaction that scores them, so each event is scored once.
 * Keyed by the insert as well as the lead, so no writer ever waits on another's mark.
 */
export const eventMarks = pgTable(
  "event_marks",
  {
    leadId: bigint("lead_id", { mode: "number" }).notNull(),
    batch: bigint("batch", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.leadId, t.batch] }), index("event_marks_batch_idx").on(t.batch)],
);

/**
 * Every event id ever accepted (the sender's `id`): written in the statement that stores the
 * event, so a retry is a duplicate whatever time it carries. Kept when retention drops the
 * events, so a late retry of a dropped event is not counted twice.
 */
export const eventIds = pgTable("event_ids", {
  id: text("id").primaryKey(),
});

/**
 * How far back raw events are kept (one row): events before `kept_from` were dropped by
 * retention, and their contribution lives on only in each lead's stored activity.
 */
export const eventRetention = pgTable(
  "event_retention",
  {
    singleton: boolean("singleton").primaryKey().default(true),
    keptFrom: ts("kept_from").notNull(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [check("event_retention_one_row", sql`${t.singleton}`)],
);

/**
 * Every version of every model; each key's highest version is that model's active one. Version
 * numbers count across all keys, so one number names one version of one model everywhere.
 */
export const models = pgTable(
  "models",
  {
    version: integer("version").primaryKey(),
    definition: jsonb("definition").$type<ScoringModel>().notNull(),
    createdBy: text("created_by").notNull(),
    /** The proposal that produced it, when one did. */
    proposalId: bigint("proposal_id", { mode: "number" }),
    note: text("note"),
    createdAt: ts("created_at").notNull().defaultNow(),
    /** Which model this is a version of (`default`, `emea`). */
    key: text("key").notNull().default("default"),
  },
  (t) => [index("models_key_version_idx").on(t.key, t.version.desc())],
);

/** The current score of each lead, its explanation, and the state needed to rescore it. */
export const leadScores = pgTable(
  "lead_scores",
  {
    leadId: bigint("lead_id", { mode: "number" })
      .primaryKey()
      .references(() => leads.id, { onDelete: "cascade" }),
    modelVersion: integer("model_version").notNull(),
    total: doublePrecision("total").notNull(),
    fit: doublePrecision("fit").notNull(),
    engagement: doublePrecision("engagement").notNull(),
    grade: text("grade").notNull(),
    level: smallint("level").notNull(),
    stage: text("stage").$type<Stage>().notNull(),
    breakdown: jsonb("breakdown").$type<BreakdownEntry[]>().notNull(),
    activity: jsonb("activity").$type<Activity>().notNull(),
    lastEventAt: ts("last_event_at"),
    scoredAt: ts("scored_at").notNull(),
    /** The model (by key) that scored the lead; `model_version` is a version of it. */
    modelKey: text("model_key").notNull().default("default"),
    /**
     * Per engagement rule, [count, summed decay factors] as of `scored_at` (RuleDecay): a change
     * of points rescales lines from it in one set-based update. Null until the lead is rescored.
     */
    decay: jsonb("decay").$type<Record<string, [number, number]>>(),
    /** When decay or a window may next move the score (see nextDueAt); null: due now. */
    nextDueAt: ts("next_due_at"),
    /**
     * The group sums before the caps (GroupSums), as of `model_version`: a change of points moves
     * them by the changed lines alone. Null until the lead is rescored.
     */
    sums: doublePrecision("sums").array(),
    /**
     * The model version whose points the stored `breakdown` lines carry. A change of points moves
     * totals, sums and `model_version` and leaves the lines: readers rescale lines of an older
     * version (rescaledBreakdown), the next scoring rewrites them. Null: rows from before it.
     */
    linesVersion: integer("lines_version"),
  },
  // NULLS FIRST is what `order by total desc` means; drizzle's desc() index alone is NULLS LAST,
  // an order no top-N query asks for, which left every top-N query sorting the whole table.
  //
  // Every index here is written again whenever a total moves, so the indexes by stage and by model
  // are partial: most leads are at stage "lead" and in the default model, and a top-N of those
  // walks lead_scores_total_idx in score order (the stage follows the total, so the MQLs and SQLs
  // it skips are the first few percent). A weight change of a rule most leads have rewrites three
  // indexes instead of six.
  (t) => [
    index("lead_scores_total_idx").on(t.total.desc().nullsFirst(), t.leadId),
    index("lead_scores_stage_total_idx")
      .on(t.stage, t.total.desc().nullsFirst(), t.leadId)
      .where(sql`stage <> 'lead'`),
    index("lead_scores_model_total_idx")
      .on(t.modelKey, t.total.desc().nullsFirst(), t.leadId)
      .where(sql`model_key <> 'default'`),
    // Find-leads filters on stage and grade together walk this one in score order.
    index("lead_scores_stage_grade_total_idx")
      .on(t.stage, t.grade, t.total.desc().nullsFirst(), t.leadId)
      .where(sql`stage <> 'lead'`),
    index("lead_scores_next_due_idx").on(t.nextDueAt),
  ],
);

/**
 * Every change of a lead's score. Written for most leads at once by a change of points, so it
 * keeps no foreign key: the check would look up and lock the lead of every row written. Rows are
 * only written beside their lead's `lead_scores` row, which has the key, and a trigger on `leads`
 * (migration 0016) deletes a deleted lead's history as a cascade would.
 */
export const scoreHistory = pgTable(
  "score_history",
  {
    id: id(),
    leadId: bigint("lead_id", { mode: "number" }).notNull(),
    at: ts("at").notNull(),
    total: doublePrecision("total").notNull(),
    fit: doublePrecision("fit").notNull(),
    engagement: doublePrecision("engagement").notNull(),
    stage: text("stage").$type<Stage>().notNull(),
    modelVersion: integer("model_version").notNull(),
    /** What caused the change: events, model, decay, lead (attributes), import. */
    cause: text("cause").notNull(),
  },
  (t) => [index("score_history_lead_at_idx").on(t.leadId, t.at)],
);

export const stageTransitions = pgTable(
  "stage_transitions",
  {
    id: id(),
    leadId: bigint("lead_id", { mode: "number" })
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    fromStage: text("from_stage").$type<Stage>().notNull(),
    toStage: text("to_stage").$type<Stage>().notNull(),
    total: doublePrecision("total").notNull(),
    modelVersion: integer("model_version").notNull(),
    cause: text("cause").notNull(),
    at: ts("at").notNull(),
  },
  (t) => [index("stage_transitions_lead_idx").on(t.leadId, t.at)],
);

/** One row per up-crossing into MQL or SQL, delivered to Slack by the dispatcher. */
export const alertOutbox = pgTable(
  "alert_outbox",
  {
    id: id(),
    transitionId: bigint("transition_id", { mode: "number" })
      .notNull()
      .references(() => stageTransitions.id, { onDelete: "cascade" }),
    leadId: bigint("lead_id", { mode: "number" })
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    stage: text("stage").$type<Stage>().notNull(),
    /** pending → sent, or failed after too many attempts. */
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    claimedBy: text("claimed_by"),
    claimedUntil: ts("claimed_until"),
    channel: text("channel"),
    messageTs: text("message_ts"),
    /** The direct message to the lead's owner, delivered with the same guarantees. */
    dmUser: text("dm_user"),
    dmTs: text("dm_ts"),
    lastError: text("last_error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    sentAt: ts("sent_at"),
    /** The change that crossed this lead when it was not new events (held until it closes). */
    burstId: bigint("burst_id", { mode: "number" }).references(() => alertBursts.id, {
      onDelete: "set null",
    }),
  },
  (t) => [
    uniqueIndex("alert_outbox_transition_key").on(t.transitionId),
    index("alert_outbox_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
    index("alert_outbox_burst_idx").on(t.burstId).where(sql`burst_id is not null`),
  ],
);

export const outcomes = pgTable(
  "outcomes",
  {
    id: id(),
    leadId: bigint("lead_id", { mode: "number" })
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    outcome: text("outcome").$type<"won" | "lost" | "not_a_fit">().notNull(),
    reason: text("reason"),
    note: text("note"),
    byUser: text("by_user").notNull(),
    /** slack-alert, slack-command, api, cli. */
    source: text("source").notNull(),
    alertId: bigint("alert_id", { mode: "number" }),
    /** Score and model at the moment of the outcome, for backtests. */
    scoreAtOutcome: doublePrecision("score_at_outcome"),
    modelVersion: integer("model_version"),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [index("outcomes_lead_idx").on(t.leadId)],
);

export const proposals = pgTable(
  "proposals",
  {
    id: id(),
    kind: text("kind").$type<"thresholds" | "weights" | "model">().notNull(),
    baseVersion: integer("base_version").notNull(),
    definition: jsonb("definition").$type<ScoringModel>().notNull(),
    diff: jsonb("diff").$type<unknown>().notNull(),
    impact: jsonb("impact").$type<unknown>(),
    status: text("status").$type<"pending" | "approved" | "rejected">().notNull(),
    proposedBy: text("proposed_by").notNull(),
    note: text("note"),
    decidedBy: text("decided_by"),
    decidedAt: ts("decided_at"),
    decisionNote: text("decision_note"),
    createdAt: ts("created_at").notNull().defaultNow(),
    /**
     * When the proposal was claimed for posting to managers. The default fills rows that existed
     * before this column (they were posted already); new proposals are inserted with null.
     */
    announcedAt: ts("announced_at").defaultNow(),
    /** The model the proposal changes (or creates); `base_version` is a version of it. */
    modelKey: text("model_key").notNull().default("default"),
  },
  (t) => [index("proposals_status_idx").on(t.status)],
);

export const roles = pgTable("roles", {
  userId: text("user_id").primaryKey(),
  role: text("role").$type<"admin" | "manager" | "rep">().notNull(),
  grantedBy: text("granted_by").notNull(),
  grantedAt: ts("granted_at").notNull().defaultNow(),
});

export const apiTokens = pgTable("api_tokens", {
  id: id(),
  name: text("name").notNull(),
  /** SHA-256 of the token; the token itself is shown once, at creation. */
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: ts("created_at").notNull().defaultNow(),
  revokedAt: ts("revoked_at"),
  lastUsedAt: ts("last_used_at"),
  /** What the token may do: ingest, read, admin (admin holds every scope). */
  scopes: text("scopes").array().notNull().default(sql`'{ingest}'::text[]`),
});

export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    at: ts("at").notNull().defaultNow(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    subject: text("subject"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("audit_log_at_idx").on(t.at)],
);

/** One row per scheduled job tick: the instance that inserts it runs the job. */
export const jobRuns = pgTable(
  "job_runs",
  {
    job: text("job").notNull(),
    tick: ts("tick").notNull(),
    instance: text("instance").notNull(),
    startedAt: ts("started_at").notNull().defaultNow(),
    finishedAt: ts("finished_at"),
    ok: boolean("ok"),
    detail: text("detail"),
  },
  (t) => [primaryKey({ columns: [t.job, t.tick] })],
);

/** Events API deliveries already handled: Slack retries a delivery up to three times. */
export const slackEventReceipts = pgTable("slack_event_receipts", {
  eventId: text("event_id").primaryKey(),
  receivedAt: ts("received_at").notNull().defaultNow(),
});

/**
 * The Slack messages that show a proposal (manager DMs, the channel post, the proposer's copy),
 * so any instance can rewrite them in place once the proposal is decided.
 */
export const proposalMessages = pgTable(
  "proposal_messages",
  {
    id: id(),
    proposalId: bigint("proposal_id", { mode: "number" })
      .notNull()
      .references(() => proposals.id, { onDelete: "cascade" }),
    channel: text("channel").notNull(),
    ts: text("ts").notNull(),
    audience: text("audience").$type<"manager" | "channel" | "proposer">().notNull(),
    /** The user a DM went to. */
    toUser: text("to_user"),
    postedAt: ts("posted_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("proposal_messages_message_idx").on(t.proposalId, t.channel, t.ts)],
);

/**
 * One change that can move many leads at once (a model activation, a rescore, an import). Its
 * alerts are held until it closes; then they go out one by one, or as one summary when more than
 * `burst_limit` leads crossed.
 */
export const alertBursts = pgTable("alert_bursts", {
  id: id(),
  cause: text("cause").notNull(),
  modelVersion: integer("model_version").notNull(),
  /** LEADBOT_ALERT_BURST when the change began: a burst recovered after a crash uses it. */
  burstLimit: integer("burst_limit").notNull(),
  /** open → released (per-lead alerts) or summarised. */
  status: text("status").$type<"open" | "released" | "summarised">().notNull().default("open"),
  /** Moved on by each chunk of work: an open burst left untouched for long was abandoned. */
  touchedAt: ts("touched_at").notNull().defaultNow(),
  createdAt: ts("created_at").notNull().defaultNow(),
  closedAt: ts("closed_at"),
});

/**
 * Summaries of a burst waiting for delivery: one for the alert channel (audience `channel`) and
 * one direct message per owner (audience = the owner's user id), each keyed to exist once.
 */
export const summaryOutbox = pgTable(
  "summary_outbox",
  {
    id: id(),
    burstId: bigint("burst_id", { mode: "number" })
      .notNull()
      .references(() => alertBursts.id, { onDelete: "cascade" }),
    audience: text("audience").notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    claimedBy: text("claimed_by"),
    claimedUntil: ts("claimed_until"),
    channel: text("channel"),
    messageTs: text("message_ts"),
    lastError: text("last_error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    uniqueIndex("summary_outbox_key").on(t.burstId, t.audience),
    index("summary_outbox_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/** Lead filters a person saved under a name; the name ":last" holds the filters they used last. */
export const leadViews = pgTable(
  "lead_views",
  {
    userId: text("user_id").notNull(),
    name: text("name").notNull(),
    filters: jsonb("filters").$type<Record<string, unknown>>().notNull(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.name] })],
);

/** Ordered routing rules: the first whose conditions hold gives an unowned MQL/SQL its owner. */
export const routingRules = pgTable("routing_rules", {
  position: integer("position").primaryKey(),
  name: text("name").notNull().unique(),
  conditions: jsonb("conditions").$type<unknown[]>().notNull(),
  target: jsonb("target").$type<Record<string, unknown>>().notNull(),
  updatedBy: text("updated_by").notNull(),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

/**
 * Round-robin turns taken per rule name, kept apart from the rules so re-applying a file does
 * not restart the rotation; one UPDATE … RETURNING takes turns across instances.
 */
export const routingTurns = pgTable("routing_turns", {
  rule: text("rule").primaryKey(),
  turns: bigint("turns", { mode: "number" }).notNull().default(0),
});

/** People who are away: routing skips them until the date. */
export const userAway = pgTable("user_away", {
  userId: text("user_id").primaryKey(),
  until: ts("until").notNull(),
  setBy: text("set_by").notNull(),
  setAt: ts("set_at").notNull().defaultNow(),
});

/** Every owner a lead was given, and how: a routing rule, a claim, or a person assigning it. */
export const leadAssignments = pgTable(
  "lead_assignments",
  {
    id: id(),
    leadId: bigint("lead_id", { mode: "number" })
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    owner: text("owner").notNull(),
    previous: text("previous"),
    source: text("source").$type<"rule" | "claim" | "person">().notNull(),
    rule: text("rule"),
    byUser: text("by_user").notNull(),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [
    index("lead_assignments_lead_idx").on(t.leadId, t.at),
    index("lead_assignments_at_idx").on(t.at),
  ],
);

/**
 * Whether a lead is closed: the latest of its won / lost / not-a-fit outcomes and reopens, by the
 * outcome's time. Won and not a fit close a lead (its later crossings raise no alert); lost and a
 * reopen leave it open.
 */
export const leadClosures = pgTable("lead_closures", {
  leadId: bigint("lead_id", { mode: "number" })
    .primaryKey()
    .references(() => leads.id, { onDelete: "cascade" }),
  state: text("state").$type<"won" | "lost" | "not_a_fit" | "reopened">().notNull(),
  reason: text("reason"),
  byUser: text("by_user").notNull(),
  source: text("source").notNull(),
  at: ts("at").notNull(),
});

/** What a learned proposal was fitted from: its rules' evidence and the held-out backtest. */
export const suggestions = pgTable("suggestions", {
  id: id(),
  proposalId: bigint("proposal_id", { mode: "number" })
    .notNull()
    .unique()
    .references(() => proposals.id, { onDelete: "cascade" }),
  evidence: jsonb("evidence").$type<unknown>().notNull(),
  backtest: jsonb("backtest").$type<unknown>().notNull(),
  need: jsonb("need").$type<unknown>().notNull(),
  fit: jsonb("fit").$type<unknown>().notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

/**
 * Outgoing messages other than stage alerts (webhooks, digests, reminders), delivered by their
 * sink with the same claims, leases and backoff as `alert_outbox`; `key` makes each one once.
 */
export const outboxMessages = pgTable(
  "outbox_messages",
  {
    id: id(),
    kind: text("kind").notNull(),
    key: text("key").notNull(),
    /** Where it goes: a channel or user id for Slack kinds; unused for webhooks (one URL). */
    target: text("target"),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    claimedBy: text("claimed_by"),
    claimedUntil: ts("claimed_until"),
    /** The sink's id of what it delivered (a Slack ts), once delivered. */
    ref: text("ref"),
    lastError: text("last_error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    uniqueIndex("outbox_messages_key").on(t.key),
    index("outbox_messages_due_idx").on(t.kind, t.nextAttemptAt).where(sql`status = 'pending'`),
  ],
);

/** How far webhooks have been queued from each source table (stage changes, outcomes, models). */
export const webhookCursors = pgTable("webhook_cursors", {
  source: text("source").primaryKey(),
  lastId: bigint("last_id", { mode: "number" }).notNull(),
});

/**
 * People whose data was erased: a keyed HMAC-SHA256 of the normalised email or of the externalId,
 * never the value itself. Later leads, events, Segment calls and CSV rows naming them are dropped.
 */
export const suppressions = pgTable("suppressions", {
  hash: text("hash").primaryKey(),
  kind: text("kind").$type<"email" | "external_id">().notNull(),
  createdBy: text("created_by").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

/** Secrets the app makes for itself on first need (the suppression key when none is configured). */
export const appSecrets = pgTable("app_secrets", {
  name: text("name").primaryKey(),
  value: text("value").notNull(),
  createdAt: ts("created_at").notNull().defaultNow(),
});

/**
 * Slack messages about an erased lead, to be rewritten as "erased lead" by the outbox dispatcher.
 * They outlive the lead on purpose and keep no personal data: only where the message is.
 */
export const erasureOutbox = pgTable(
  "erasure_outbox",
  {
    id: id(),
    /** The erased lead's former id: no foreign key, the lead is gone. */
    leadId: bigint("lead_id", { mode: "number" }).notNull(),
    /** The channel of the message; null for a DM, whose channel is opened with `dmUser`. */
    channel: text("channel"),
    dmUser: text("dm_user"),
    messageTs: text("message_ts").notNull(),
    status: text("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    claimedBy: text("claimed_by"),
    claimedUntil: ts("claimed_until"),
    lastError: text("last_error"),
    createdAt: ts("created_at").notNull().defaultNow(),
    sentAt: ts("sent_at"),
  },
  (t) => [index("erasure_outbox_due_idx").on(t.nextAttemptAt).where(sql`status = 'pending'`)],
);

/**
 * Rescores in flight: `after_lead_id` advances in the chunk's own transaction, so a restart
 * finishes a rescore a killed process left half done. Claims keep two instances off one run.
 */
export const rescoreRuns = pgTable(
  "rescore_runs",
  {
    id: id(),
    modelKey: text("model_key").notNull(),
    cause: text("cause").notNull(),
    afterLeadId: bigint("after_lead_id", { mode: "number" }).notNull().default(0),
    startedAt: ts("started_at").notNull().defaultNow(),
    finishedAt: ts("finished_at"),
    claimedBy: text("claimed_by"),
    claimedUntil: ts("claimed_until"),
  },
  (t) => [index("rescore_runs_open_idx").on(t.id).where(sql`finished_at is null`)],
);

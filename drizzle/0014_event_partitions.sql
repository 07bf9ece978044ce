CREATE TABLE "event_ids" (
	"id" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "event_retention" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"kept_from" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "event_retention_one_row" CHECK ("event_retention"."singleton")
);
--> statement-breakpoint
-- ---------------------------------------------------------------------------------------------
-- Hand-written (drizzle-kit cannot express partitioning; carry this block over when regenerating,
-- in place of drizzle-kit's commented-out "DROP CONSTRAINT" of the events primary key).
-- Converts events, with its rows, into a table partitioned by month of occurred_at (UTC months):
-- a DEFAULT partition takes any time without a month of its own, the current and the next month
-- get theirs, and so does every past month already holding at least 1,000 events (the same rule
-- as SPLIT_MIN_ROWS in src/db/queries/event-partitions.ts). Ids move to event_ids, which keeps
-- delivery idempotent now that no unique key on events alone can.
ALTER TABLE "events" RENAME TO "events_unpartitioned";
--> statement-breakpoint
ALTER INDEX "events_lead_occurred_idx" RENAME TO "events_unpartitioned_lead_occurred_idx";
--> statement-breakpoint
ALTER INDEX "events_batch_idx" RENAME TO "events_unpartitioned_batch_idx";
--> statement-breakpoint
ALTER TABLE "events_unpartitioned" RENAME CONSTRAINT "events_pkey" TO "events_unpartitioned_pkey";
--> statement-breakpoint
CREATE TABLE "events" (
	"id" text NOT NULL,
	"lead_id" bigint NOT NULL,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"batch" bigint
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE TABLE "events_default" PARTITION OF "events" DEFAULT;
--> statement-breakpoint
DO $$
DECLARE
  this_month timestamptz := date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
  m timestamptz;
BEGIN
  FOR m IN
    SELECT this_month UNION SELECT this_month + interval '1 month'
    UNION
    SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
    FROM "events_unpartitioned"
    GROUP BY 1 HAVING count(*) >= 1000
  LOOP
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF "events" FOR VALUES FROM (%L) TO (%L)',
      'events_' || to_char(m AT TIME ZONE 'UTC', 'YYYY_MM'),
      m, m + interval '1 month');
  END LOOP;
END $$;
--> statement-breakpoint
INSERT INTO "event_ids" ("id") SELECT "id" FROM "events_unpartitioned";
--> statement-breakpoint
INSERT INTO "events" ("id", "lead_id", "type", "occurred_at", "properties", "received_at", "batch")
SELECT "id", "lead_id", "type", "occurred_at", "properties", "received_at", "batch" FROM "events_unpartitioned";
--> statement-breakpoint
DROP TABLE "events_unpartitioned";
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_lead_id_leads_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."leads"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "events_lead_occurred_idx" ON "events" USING btree ("lead_id","occurred_at");
--> statement-breakpoint
CREATE INDEX "events_batch_idx" ON "events" USING btree ("batch","lead_id") WHERE "events"."batch" is not null;

CREATE TABLE "alert_bursts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "alert_bursts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"cause" text NOT NULL,
	"model_version" integer NOT NULL,
	"burst_limit" integer NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"touched_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "summary_outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "summary_outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"burst_id" bigint NOT NULL,
	"audience" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_by" text,
	"claimed_until" timestamp with time zone,
	"channel" text,
	"message_ts" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD COLUMN "burst_id" bigint;--> statement-breakpoint
ALTER TABLE "summary_outbox" ADD CONSTRAINT "summary_outbox_burst_id_alert_bursts_id_fk" FOREIGN KEY ("burst_id") REFERENCES "public"."alert_bursts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "summary_outbox_key" ON "summary_outbox" USING btree ("burst_id","audience");--> statement-breakpoint
CREATE INDEX "summary_outbox_due_idx" ON "summary_outbox" USING btree ("next_attempt_at") WHERE status = 'pending';--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD CONSTRAINT "alert_outbox_burst_id_alert_bursts_id_fk" FOREIGN KEY ("burst_id") REFERENCES "public"."alert_bursts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alert_outbox_burst_idx" ON "alert_outbox" USING btree ("burst_id") WHERE burst_id is not null;
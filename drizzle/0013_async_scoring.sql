CREATE SEQUENCE "public"."event_batch_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "event_marks" (
	"lead_id" bigint NOT NULL,
	"batch" bigint NOT NULL,
	CONSTRAINT "event_marks_lead_id_batch_pk" PRIMARY KEY("lead_id","batch")
);
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "batch" bigint;--> statement-breakpoint
CREATE INDEX "event_marks_batch_idx" ON "event_marks" USING btree ("batch");--> statement-breakpoint
CREATE INDEX "events_batch_idx" ON "events" USING btree ("batch","lead_id") WHERE batch is not null;
CREATE TABLE "lead_closures" (
	"lead_id" bigint PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"by_user" text NOT NULL,
	"source" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lead_closures" ADD CONSTRAINT "lead_closures_lead_id_leads_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."leads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Leads won or marked not a fit before closures existed are closed by their latest outcome.
INSERT INTO "lead_closures" ("lead_id", "state", "reason", "by_user", "source", "at")
SELECT DISTINCT ON ("lead_id") "lead_id", "outcome", "reason", "by_user", "source", "created_at"
FROM "outcomes" ORDER BY "lead_id", "created_at" DESC, "id" DESC
ON CONFLICT DO NOTHING;

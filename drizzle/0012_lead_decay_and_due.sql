ALTER TABLE "lead_scores" ADD COLUMN "decay" jsonb;--> statement-breakpoint
ALTER TABLE "lead_scores" ADD COLUMN "next_due_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "lead_scores_next_due_idx" ON "lead_scores" USING btree ("next_due_at");
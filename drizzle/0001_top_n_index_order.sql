DROP INDEX "lead_scores_total_idx";--> statement-breakpoint
DROP INDEX "lead_scores_stage_total_idx";--> statement-breakpoint
CREATE INDEX "lead_scores_total_idx" ON "lead_scores" USING btree ("total" DESC NULLS FIRST,"lead_id");--> statement-breakpoint
CREATE INDEX "lead_scores_stage_total_idx" ON "lead_scores" USING btree ("stage","total" DESC NULLS FIRST,"lead_id");
DROP INDEX "lead_scores_stage_total_idx";--> statement-breakpoint
DROP INDEX "lead_scores_model_total_idx";--> statement-breakpoint
DROP INDEX "lead_scores_stage_grade_total_idx";--> statement-breakpoint
ALTER TABLE "lead_scores" ADD COLUMN "sums" double precision[];--> statement-breakpoint
ALTER TABLE "lead_scores" ADD COLUMN "lines_version" integer;--> statement-breakpoint
CREATE INDEX "lead_scores_stage_total_idx" ON "lead_scores" USING btree ("stage","total" DESC NULLS FIRST,"lead_id") WHERE stage <> 'lead';--> statement-breakpoint
CREATE INDEX "lead_scores_model_total_idx" ON "lead_scores" USING btree ("model_key","total" DESC NULLS FIRST,"lead_id") WHERE model_key <> 'default';--> statement-breakpoint
CREATE INDEX "lead_scores_stage_grade_total_idx" ON "lead_scores" USING btree ("stage","grade","total" DESC NULLS FIRST,"lead_id") WHERE stage <> 'lead';
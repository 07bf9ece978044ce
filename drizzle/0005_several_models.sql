ALTER TABLE "lead_scores" ADD COLUMN "model_key" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "models" ADD COLUMN "key" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "proposals" ADD COLUMN "model_key" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
CREATE INDEX "lead_scores_model_total_idx" ON "lead_scores" USING btree ("model_key","total" DESC NULLS FIRST,"lead_id");--> statement-breakpoint
CREATE INDEX "models_key_version_idx" ON "models" USING btree ("key","version" DESC NULLS LAST);
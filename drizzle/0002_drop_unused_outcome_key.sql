DROP INDEX "outcomes_idempotency_key";--> statement-breakpoint
ALTER TABLE "outcomes" DROP COLUMN "idempotency_key";
CREATE TABLE "proposal_messages" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "proposal_messages_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"proposal_id" bigint NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"audience" text NOT NULL,
	"to_user" text,
	"posted_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "proposal_messages" ADD CONSTRAINT "proposal_messages_proposal_id_proposals_id_fk" FOREIGN KEY ("proposal_id") REFERENCES "public"."proposals"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "proposal_messages_message_idx" ON "proposal_messages" USING btree ("proposal_id","channel","ts");--> statement-breakpoint
-- Message references were kept as "proposal.posted" audit rows; they move here, the audit rows stay as history.
INSERT INTO "proposal_messages" ("proposal_id", "channel", "ts", "audience", "to_user", "posted_at")
SELECT p."id", m->>'channel', m->>'ts', m->>'audience', m->>'to', a."at"
FROM "audit_log" a
CROSS JOIN LATERAL jsonb_array_elements(coalesce(a."details"->'messages', '[]'::jsonb)) m
JOIN "proposals" p ON a."subject" = 'proposal:' || p."id"::text
WHERE a."action" = 'proposal.posted'
  AND m->>'channel' IS NOT NULL AND m->>'ts' IS NOT NULL
  AND m->>'audience' IN ('manager', 'channel', 'proposer')
ON CONFLICT DO NOTHING;

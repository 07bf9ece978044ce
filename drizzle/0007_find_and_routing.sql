CREATE TABLE "lead_assignments" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "lead_assignments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"lead_id" bigint NOT NULL,
	"owner" text NOT NULL,
	"previous" text,
	"source" text NOT NULL,
	"rule" text,
	"by_user" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lead_views" (
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"filters" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "lead_views_user_id_name_pk" PRIMARY KEY("user_id","name")
);
--> statement-breakpoint
CREATE TABLE "routing_rules" (
	"position" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"conditions" jsonb NOT NULL,
	"target" jsonb NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "routing_rules_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "routing_turns" (
	"rule" text PRIMARY KEY NOT NULL,
	"turns" bigint DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "user_away" (
	"user_id" text PRIMARY KEY NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lead_assignments" ADD CONSTRAINT "lead_assignments_lead_id_leads_id_fk" FOREIGN KEY ("lead_id") REFERENCES "public"."leads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "lead_assignments_lead_idx" ON "lead_assignments" USING btree ("lead_id","at");--> statement-breakpoint
CREATE INDEX "lead_assignments_at_idx" ON "lead_assignments" USING btree ("at");--> statement-breakpoint
CREATE INDEX "lead_scores_stage_grade_total_idx" ON "lead_scores" USING btree ("stage","grade","total" DESC NULLS FIRST,"lead_id");
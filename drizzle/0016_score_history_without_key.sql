ALTER TABLE "score_history" DROP CONSTRAINT "score_history_lead_id_leads_id_fk";
--> statement-breakpoint
-- What the foreign key's cascade did: a deleted lead's score history goes with it, once per
-- statement however many leads it deletes.
CREATE FUNCTION "score_history_of_deleted_leads"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "score_history" h USING "deleted_leads" d WHERE h."lead_id" = d."id";
  RETURN NULL;
END $$;--> statement-breakpoint
CREATE TRIGGER "leads_delete_score_history" AFTER DELETE ON "leads"
  REFERENCING OLD TABLE AS "deleted_leads"
  FOR EACH STATEMENT EXECUTE FUNCTION "score_history_of_deleted_leads"();

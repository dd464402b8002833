-- TRUNCATE fires no row or statement DML triggers, so `TRUNCATE category_app` in SQL changed delivery
-- without a change-log version: running replicas kept the old rules while a fresh one loaded the new
-- state under the same version. A BEFORE TRUNCATE trigger still sees every row, so it logs them as the
-- DML triggers would for a DELETE of all rows, with the existing kinds (one version per transaction,
-- through bullseye_tx_version(); the index code handles them like any other change).
CREATE FUNCTION bullseye_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'campaign' THEN
    IF NOT EXISTS (SELECT 1 FROM "campaign") THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_DELETED', "id" FROM "campaign"
      ON CONFLICT ("version", "campaign_id") DO UPDATE SET "kind" = 'CAMPAIGN_DELETED';
  ELSIF TG_TABLE_NAME = 'targeting_rule' THEN
    IF NOT EXISTS (SELECT 1 FROM "targeting_rule") THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_UPDATED', c FROM (SELECT DISTINCT "campaign_id" AS c FROM "targeting_rule") s
      ON CONFLICT ("version", "campaign_id") DO NOTHING;
  ELSIF TG_TABLE_NAME = 'category' THEN
    IF NOT EXISTS (SELECT 1 FROM "category") THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_DELETED', "id" FROM "category"
      ON CONFLICT ("version", "category_id") DO UPDATE SET "kind" = 'CATEGORY_DELETED';
  ELSIF TG_TABLE_NAME = 'category_app' THEN
    IF NOT EXISTS (SELECT 1 FROM "category_app") THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_UPSERTED', c FROM (SELECT DISTINCT "category_id" AS c FROM "category_app") s
      ON CONFLICT ("version", "category_id") DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "campaign_log_truncate" BEFORE TRUNCATE ON "campaign"
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_truncate();
CREATE TRIGGER "targeting_rule_log_truncate" BEFORE TRUNCATE ON "targeting_rule"
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_truncate();
CREATE TRIGGER "category_log_truncate" BEFORE TRUNCATE ON "category"
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_truncate();
CREATE TRIGGER "category_app_log_truncate" BEFORE TRUNCATE ON "category_app"
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_truncate();

-- Change log written by the database itself, so edits made through the API and directly in SQL are
-- versioned the same way. One version per transaction (gapless: the counter row is updated, not a
-- sequence, so a rolled-back transaction gives its number back), one item per campaign/category touched.

INSERT INTO "change_counter" ("id", "version") VALUES (1, 0);

-- The version of the current transaction, allocated on first use. The counter's row lock is held until
-- commit, so writers serialise and versions become visible in order.
CREATE FUNCTION bullseye_tx_version() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  tx text := txid_current()::text;
  v integer;
BEGIN
  IF current_setting('bullseye.tx', true) = tx THEN
    RETURN current_setting('bullseye.version')::integer;
  END IF;
  UPDATE "change_counter" SET "version" = "version" + 1 WHERE "id" = 1 RETURNING "version" INTO v;
  INSERT INTO "change_log" ("version") VALUES (v);
  PERFORM set_config('bullseye.tx', tx, true);
  PERFORM set_config('bullseye.version', v::text, true);
  RETURN v;
END $$;

-- The version this transaction already allocated, or NULL when it changed nothing yet.
CREATE FUNCTION bullseye_allocated_version() RETURNS integer LANGUAGE sql AS $$
  SELECT CASE WHEN current_setting('bullseye.tx', true) = txid_current_if_assigned()::text
              THEN current_setting('bullseye.version')::integer END
$$;

CREATE FUNCTION bullseye_log_campaign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_CREATED', "id" FROM new_rows
      ON CONFLICT ("version", "campaign_id") DO UPDATE SET "kind" =
        CASE WHEN "change_log_item"."kind" = 'CAMPAIGN_DELETED' THEN 'CAMPAIGN_UPDATED'::"RuleChangeKind"
             ELSE 'CAMPAIGN_CREATED'::"RuleChangeKind" END;
  ELSIF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_DELETED', "id" FROM old_rows
      ON CONFLICT ("version", "campaign_id") DO UPDATE SET "kind" = 'CAMPAIGN_DELETED';
  ELSE
    IF NOT EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o USING ("id") WHERE n IS DISTINCT FROM o) THEN
      RETURN NULL;
    END IF;
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_UPDATED', n."id" FROM new_rows n JOIN old_rows o USING ("id")
      WHERE n IS DISTINCT FROM o
      ON CONFLICT ("version", "campaign_id") DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION bullseye_log_targeting_rule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_UPDATED', c FROM (SELECT DISTINCT "campaign_id" AS c FROM new_rows) s
      ON CONFLICT ("version", "campaign_id") DO NOTHING;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_UPDATED', c FROM (SELECT DISTINCT "campaign_id" AS c FROM old_rows) s
      ON CONFLICT ("version", "campaign_id") DO NOTHING;
  ELSE
    INSERT INTO "change_log_item" ("version", "kind", "campaign_id")
      SELECT bullseye_tx_version(), 'CAMPAIGN_UPDATED', c FROM (
        SELECT "campaign_id" AS c FROM new_rows UNION SELECT "campaign_id" FROM old_rows) s
      ON CONFLICT ("version", "campaign_id") DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION bullseye_log_category() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM old_rows) THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_DELETED', "id" FROM old_rows
      ON CONFLICT ("version", "category_id") DO UPDATE SET "kind" = 'CATEGORY_DELETED';
  ELSE
    IF NOT EXISTS (SELECT 1 FROM new_rows) THEN RETURN NULL; END IF;
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_UPSERTED', "id" FROM new_rows
      ON CONFLICT ("version", "category_id") DO UPDATE SET "kind" = 'CATEGORY_UPSERTED';
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION bullseye_log_category_app() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_UPSERTED', c FROM (SELECT DISTINCT "category_id" AS c FROM new_rows) s
      ON CONFLICT ("version", "category_id") DO NOTHING;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_UPSERTED', c FROM (SELECT DISTINCT "category_id" AS c FROM old_rows) s
      ON CONFLICT ("version", "category_id") DO NOTHING;
  ELSE
    INSERT INTO "change_log_item" ("version", "kind", "category_id")
      SELECT bullseye_tx_version(), 'CATEGORY_UPSERTED', c FROM (
        SELECT "category_id" AS c FROM new_rows UNION SELECT "category_id" FROM old_rows) s
      ON CONFLICT ("version", "category_id") DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

-- Ids are immutable; a real change bumps revision (unless the writer set it) and updated_at.
CREATE FUNCTION bullseye_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."id" <> OLD."id" THEN
    RAISE EXCEPTION '% id is immutable', TG_TABLE_NAME USING ERRCODE = 'check_violation';
  END IF;
  IF NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
  IF TG_TABLE_NAME = 'campaign' AND NEW."revision" = OLD."revision" THEN
    NEW."revision" := OLD."revision" + 1;
  END IF;
  IF NEW."updated_at" = OLD."updated_at" THEN NEW."updated_at" := now(); END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "campaign_touch" BEFORE UPDATE ON "campaign" FOR EACH ROW EXECUTE FUNCTION bullseye_touch();
CREATE TRIGGER "category_touch" BEFORE UPDATE ON "category" FOR EACH ROW EXECUTE FUNCTION bullseye_touch();

CREATE TRIGGER "campaign_log_insert" AFTER INSERT ON "campaign" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_campaign();
CREATE TRIGGER "campaign_log_update" AFTER UPDATE ON "campaign" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_campaign();
CREATE TRIGGER "campaign_log_delete" AFTER DELETE ON "campaign" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_campaign();

CREATE TRIGGER "targeting_rule_log_insert" AFTER INSERT ON "targeting_rule" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_targeting_rule();
CREATE TRIGGER "targeting_rule_log_update" AFTER UPDATE ON "targeting_rule" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_targeting_rule();
CREATE TRIGGER "targeting_rule_log_delete" AFTER DELETE ON "targeting_rule" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_targeting_rule();

CREATE TRIGGER "category_log_insert" AFTER INSERT ON "category" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_category();
CREATE TRIGGER "category_log_update" AFTER UPDATE ON "category" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_category();
CREATE TRIGGER "category_log_delete" AFTER DELETE ON "category" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_category();

CREATE TRIGGER "category_app_log_insert" AFTER INSERT ON "category_app" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_category_app();
CREATE TRIGGER "category_app_log_update" AFTER UPDATE ON "category_app" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_category_app();
CREATE TRIGGER "category_app_log_delete" AFTER DELETE ON "category_app" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_log_category_app();

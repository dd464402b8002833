-- Fix: every UPDATE of a category failed with `record "new" has no field "revision"`. PL/pgSQL plans an
-- IF condition whole, so `TG_TABLE_NAME = 'campaign' AND NEW."revision" = ...` references "revision" on
-- the category table too. The nested IF is only planned when reached, i.e. for campaign rows.
CREATE OR REPLACE FUNCTION bullseye_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW."id" <> OLD."id" THEN
    RAISE EXCEPTION '% id is immutable', TG_TABLE_NAME USING ERRCODE = 'check_violation';
  END IF;
  IF NEW IS NOT DISTINCT FROM OLD THEN RETURN NEW; END IF;
  IF TG_TABLE_NAME = 'campaign' THEN
    IF NEW."revision" = OLD."revision" THEN
      NEW."revision" := OLD."revision" + 1;
    END IF;
  END IF;
  IF NEW."updated_at" = OLD."updated_at" THEN NEW."updated_at" := now(); END IF;
  RETURN NEW;
END $$;

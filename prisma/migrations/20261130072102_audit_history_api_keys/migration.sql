-- CreateEnum
CREATE TYPE "ApiKeyRole" AS ENUM ('ADMIN', 'VIEWER');

-- AlterTable
-- Versions written before this migration have no known actor: a constant default marks them 'unknown'
-- without rewriting the table; bullseye_tx_version() names the actor of every later one.
ALTER TABLE "change_log" ADD COLUMN     "actor" TEXT NOT NULL DEFAULT 'unknown',
ADD COLUMN     "reason" TEXT;
ALTER TABLE "change_log" ALTER COLUMN "actor" DROP DEFAULT;

-- CreateTable
CREATE TABLE "campaign_revision" (
    "campaign_id" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "state" JSONB NOT NULL,

    CONSTRAINT "campaign_revision_pkey" PRIMARY KEY ("campaign_id","revision")
);

-- CreateTable
CREATE TABLE "category_revision" (
    "category_id" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "version" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "state" JSONB NOT NULL,

    CONSTRAINT "category_revision_pkey" PRIMARY KEY ("category_id","revision")
);

-- CreateTable
CREATE TABLE "api_key" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "role" "ApiKeyRole" NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" TEXT NOT NULL,
    "created_reason" TEXT,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by" TEXT,
    "revoked_reason" TEXT,

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_key_counter" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "api_key_counter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "campaign_revision_at_idx" ON "campaign_revision"("at");

-- CreateIndex
CREATE INDEX "category_revision_at_idx" ON "category_revision"("at");

-- CreateIndex
CREATE UNIQUE INDEX "api_key_name_key" ON "api_key"("name");

-- CreateIndex
CREATE UNIQUE INDEX "api_key_secret_hash_key" ON "api_key"("secret_hash");

-- The commit hook of history (below) lives in its own schema: Prisma's schema describer cannot read a
-- constraint trigger (pg_constraint type 't') and only describes "public".
CREATE SCHEMA bullseye_internal;
CREATE TABLE bullseye_internal.pending_revisions ("version" integer PRIMARY KEY);

-- ---------------------------------------------------------------------------------------------------
-- Audit trail: who made each version, and why. The actor is 'sql:' || current_user unless the API names
-- its key (src/schema/write.ts updates the row before commit); a SQL session may give a reason with
-- `SET LOCAL bullseye.reason = '…'`.
CREATE OR REPLACE FUNCTION bullseye_tx_version() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  tx text := txid_current()::text;
  v integer;
BEGIN
  IF current_setting('bullseye.tx', true) = tx THEN
    RETURN current_setting('bullseye.version')::integer;
  END IF;
  UPDATE "change_counter" SET "version" = "version" + 1 WHERE "id" = 1 RETURNING "version" INTO v;
  INSERT INTO "change_log" ("version", "actor", "reason")
    VALUES (v, 'sql:' || current_user, nullif(current_setting('bullseye.reason', true), ''));
  INSERT INTO bullseye_internal.pending_revisions ("version") VALUES (v);
  PERFORM set_config('bullseye.tx', tx, true);
  PERFORM set_config('bullseye.version', v::text, true);
  RETURN v;
END $$;

-- ---------------------------------------------------------------------------------------------------
-- History: at commit, every campaign and category a version touched gets a revision holding its whole
-- state (fields and targeting / name and apps), or a deletion that keeps the state it deleted. One
-- deferred trigger per transaction (on the row bullseye_tx_version() puts in pending_revisions),
-- set-based, so an import of thousands of campaigns is a few statements; it runs for API writes, SQL
-- edits, imports and TRUNCATE alike. (`SET CONSTRAINTS ALL IMMEDIATE` in a SQL session would fire it
-- before the session's later statements: don't.)

CREATE FUNCTION bullseye_iso(t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- The state of the given campaigns as history stores it (JSON field names as in GraphQL). Rules are
-- aggregated per campaign through its primary-key prefix (a LATERAL subquery), so the plan stays a
-- lookup per id however many ids come, whatever the planner guesses about the array.
CREATE FUNCTION bullseye_campaign_states(ids text[]) RETURNS TABLE ("id" text, "revision" integer, "state" jsonb)
LANGUAGE sql STABLE AS $$
  SELECT c."id", c."revision", jsonb_build_object(
      'name', c."name", 'imageUrl', c."image_url", 'cta', c."cta", 'status', c."status", 'priority', c."priority",
      'startsAt', bullseye_iso(c."starts_at"), 'endsAt', bullseye_iso(c."ends_at"), 'targeting', t."targeting")
  FROM unnest(ids) AS x("id")
  JOIN "campaign" c ON c."id" = x."id"
  CROSS JOIN LATERAL (
    SELECT jsonb_build_object(
        'include', jsonb_build_object(
          'apps', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'INCLUDE' AND r."dimension" = 'APP'), '[]'),
          'countries', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'INCLUDE' AND r."dimension" = 'COUNTRY'), '[]'),
          'os', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'INCLUDE' AND r."dimension" = 'OS'), '[]'),
          'categories', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'INCLUDE' AND r."dimension" = 'CATEGORY'), '[]')),
        'exclude', jsonb_build_object(
          'apps', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'EXCLUDE' AND r."dimension" = 'APP'), '[]'),
          'countries', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'EXCLUDE' AND r."dimension" = 'COUNTRY'), '[]'),
          'os', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'EXCLUDE' AND r."dimension" = 'OS'), '[]'),
          'categories', coalesce(jsonb_agg(r."value") FILTER (WHERE r."mode" = 'EXCLUDE' AND r."dimension" = 'CATEGORY'), '[]'))
      ) AS "targeting"
    FROM "targeting_rule" r WHERE r."campaign_id" = c."id") t
$$;

CREATE FUNCTION bullseye_category_states(ids text[]) RETURNS TABLE ("id" text, "state" jsonb)
LANGUAGE sql STABLE AS $$
  SELECT k."id", jsonb_build_object('name', k."name", 'apps', coalesce(a."apps", '[]'))
  FROM unnest(ids) AS t("id")
  JOIN "category" k ON k."id" = t."id"
  LEFT JOIN LATERAL (
    SELECT jsonb_agg(x."app" ORDER BY x."app") AS "apps" FROM "category_app" x WHERE x."category_id" = k."id"
  ) a ON true
$$;

-- force_generic_plan: the statements take the touched ids as an array parameter, whose size a custom
-- plan would estimate on every call; the generic plan (index lookups per id) is right for one campaign
-- and for an import of thousands, and is planned once per connection instead of at every commit.
CREATE FUNCTION bullseye_record_revisions() RETURNS trigger LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  campaigns text[];
  categories text[];
  stamp timestamptz;
  behind text[];
  caught_up integer[];
BEGIN
  SELECT coalesce(array_agg(i."campaign_id") FILTER (WHERE i."campaign_id" IS NOT NULL), '{}'),
         coalesce(array_agg(i."category_id") FILTER (WHERE i."category_id" IS NOT NULL), '{}'),
         min(l."at")
    INTO campaigns, categories, stamp
    FROM "change_log_item" i JOIN "change_log" l ON l."version" = i."version"
    WHERE i."version" = NEW."version";

  IF cardinality(campaigns) > 0 THEN
    -- Each touched campaign that exists gets a revision past its last recorded one. One whose own
    -- revision did not move past that (rules edited in SQL alone, an id created again after a delete)
    -- takes the recorded number, so revisions stay unique and increasing. API writes always bump the
    -- revision themselves: for them nothing is updated (or locked).
    WITH "recorded" AS (
      INSERT INTO "campaign_revision" ("campaign_id", "revision", "version", "at", "deleted", "state")
        SELECT s."id", greatest(s."revision", coalesce(h."last", 0) + 1), NEW."version", stamp, false, s."state"
        FROM bullseye_campaign_states(campaigns) s
        CROSS JOIN LATERAL (
          SELECT max(r."revision") AS "last" FROM "campaign_revision" r WHERE r."campaign_id" = s."id") h
        ON CONFLICT DO NOTHING
        RETURNING "campaign_id", "revision")
    SELECT array_agg("recorded"."campaign_id"), array_agg("recorded"."revision") INTO behind, caught_up
      FROM "recorded" JOIN "campaign" c ON c."id" = "recorded"."campaign_id"
      WHERE c."revision" <> "recorded"."revision";
    IF behind IS NOT NULL THEN
      UPDATE "campaign" c SET "revision" = b."revision"
        FROM unnest(behind, caught_up) AS b("id", "revision") WHERE c."id" = b."id";
    END IF;
    -- Deleted now: a deletion revision after the last one, unless there is none (created and deleted in
    -- one transaction) or it already is a deletion.
    INSERT INTO "campaign_revision" ("campaign_id", "revision", "version", "at", "deleted", "state")
      SELECT t."id", l."revision" + 1, NEW."version", stamp, true, l."state"
      FROM unnest(campaigns) AS t("id")
      CROSS JOIN LATERAL (
        SELECT r."revision", r."deleted", r."state" FROM "campaign_revision" r
        WHERE r."campaign_id" = t."id" ORDER BY r."revision" DESC LIMIT 1) l
      WHERE NOT l."deleted" AND NOT EXISTS (SELECT 1 FROM "campaign" c WHERE c."id" = t."id")
      ON CONFLICT DO NOTHING;
  END IF;

  IF cardinality(categories) > 0 THEN
    INSERT INTO "category_revision" ("category_id", "revision", "version", "at", "deleted", "state")
      SELECT s."id", coalesce(h."last", 0) + 1, NEW."version", stamp, false, s."state"
      FROM bullseye_category_states(categories) s
      CROSS JOIN LATERAL (SELECT max(r."revision") AS "last" FROM "category_revision" r WHERE r."category_id" = s."id") h
      ON CONFLICT DO NOTHING;
    INSERT INTO "category_revision" ("category_id", "revision", "version", "at", "deleted", "state")
      SELECT t."id", l."revision" + 1, NEW."version", stamp, true, l."state"
      FROM unnest(categories) AS t("id")
      CROSS JOIN LATERAL (
        SELECT r."revision", r."deleted", r."state" FROM "category_revision" r
        WHERE r."category_id" = t."id" ORDER BY r."revision" DESC LIMIT 1) l
      WHERE NOT l."deleted" AND NOT EXISTS (SELECT 1 FROM "category" k WHERE k."id" = t."id")
      ON CONFLICT DO NOTHING;
  END IF;
  DELETE FROM bullseye_internal.pending_revisions WHERE "version" = NEW."version";
  RETURN NULL;
END $$;

-- Deferred: runs at commit, after the transaction's last statement, so it records the final state.
CREATE CONSTRAINT TRIGGER "record_revisions" AFTER INSERT ON bullseye_internal.pending_revisions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bullseye_record_revisions();

-- What exists now is the first revision history knows of (at the last version that touched it).
INSERT INTO "campaign_revision" ("campaign_id", "revision", "version", "at", "deleted", "state")
  SELECT s."id", s."revision", l."version", l."at", false, s."state"
  FROM bullseye_campaign_states(ARRAY(SELECT "id" FROM "campaign")) s
  LEFT JOIN (SELECT "campaign_id", max("version") AS "version" FROM "change_log_item"
             WHERE "campaign_id" IS NOT NULL GROUP BY "campaign_id") m ON m."campaign_id" = s."id"
  JOIN "change_log" l ON l."version" = coalesce(m."version", (SELECT "version" FROM "change_counter" WHERE "id" = 1));
INSERT INTO "category_revision" ("category_id", "revision", "version", "at", "deleted", "state")
  SELECT s."id", 1, l."version", l."at", false, s."state"
  FROM bullseye_category_states(ARRAY(SELECT "id" FROM "category")) s
  LEFT JOIN (SELECT "category_id", max("version") AS "version" FROM "change_log_item"
             WHERE "category_id" IS NOT NULL GROUP BY "category_id") m ON m."category_id" = s."id"
  JOIN "change_log" l ON l."version" = coalesce(m."version", (SELECT "version" FROM "change_counter" WHERE "id" = 1));

-- ---------------------------------------------------------------------------------------------------
-- API keys: every change that matters to authentication (not last_used_at, which replicas write in
-- batches) bumps api_key_counter; replicas poll it and reload their key cache when it moves.
INSERT INTO "api_key_counter" ("id", "version") VALUES (1, 0);

CREATE FUNCTION bullseye_api_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "api_key_counter" SET "version" = "version" + 1 WHERE "id" = 1;
  RETURN NULL;
END $$;

CREATE TRIGGER "api_key_changed"
  AFTER INSERT OR DELETE OR UPDATE OF "name", "role", "secret_hash", "revoked_at" OR TRUNCATE ON "api_key"
  FOR EACH STATEMENT EXECUTE FUNCTION bullseye_api_key_changed();

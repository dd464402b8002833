-- CreateEnum
CREATE TYPE "CampaignStatus" AS ENUM ('ACTIVE', 'PAUSED');

-- CreateEnum
CREATE TYPE "Dimension" AS ENUM ('APP', 'COUNTRY', 'OS', 'CATEGORY');

-- CreateEnum
CREATE TYPE "RuleMode" AS ENUM ('INCLUDE', 'EXCLUDE');

-- CreateEnum
CREATE TYPE "RuleChangeKind" AS ENUM ('CAMPAIGN_CREATED', 'CAMPAIGN_UPDATED', 'CAMPAIGN_DELETED', 'CATEGORY_UPSERTED', 'CATEGORY_DELETED');

-- CreateTable
CREATE TABLE "campaign" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "image_url" TEXT NOT NULL,
    "cta" TEXT NOT NULL,
    "status" "CampaignStatus" NOT NULL DEFAULT 'ACTIVE',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "starts_at" TIMESTAMPTZ(3),
    "ends_at" TIMESTAMPTZ(3),
    "revision" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaign_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "targeting_rule" (
    "campaign_id" TEXT NOT NULL,
    "dimension" "Dimension" NOT NULL,
    "mode" "RuleMode" NOT NULL,
    "value" TEXT NOT NULL,

    CONSTRAINT "targeting_rule_pkey" PRIMARY KEY ("campaign_id","dimension","mode","value")
);

-- CreateTable
CREATE TABLE "category" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "category_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "category_app" (
    "category_id" TEXT NOT NULL,
    "app" TEXT NOT NULL,

    CONSTRAINT "category_app_pkey" PRIMARY KEY ("category_id","app")
);

-- CreateTable
CREATE TABLE "change_log" (
    "version" INTEGER NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "change_log_pkey" PRIMARY KEY ("version")
);

-- CreateTable
CREATE TABLE "change_log_item" (
    "id" SERIAL NOT NULL,
    "version" INTEGER NOT NULL,
    "kind" "RuleChangeKind" NOT NULL,
    "campaign_id" TEXT,
    "category_id" TEXT,

    CONSTRAINT "change_log_item_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "change_counter" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "version" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "change_counter_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "targeting_rule_dimension_value_idx" ON "targeting_rule"("dimension", "value");

-- CreateIndex
CREATE INDEX "category_app_app_idx" ON "category_app"("app");

-- CreateIndex
CREATE UNIQUE INDEX "change_log_item_version_campaign_id_key" ON "change_log_item"("version", "campaign_id");

-- CreateIndex
CREATE UNIQUE INDEX "change_log_item_version_category_id_key" ON "change_log_item"("version", "category_id");

-- AddForeignKey
ALTER TABLE "targeting_rule" ADD CONSTRAINT "targeting_rule_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaign"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "category_app" ADD CONSTRAINT "category_app_category_id_fkey" FOREIGN KEY ("category_id") REFERENCES "category"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "change_log_item" ADD CONSTRAINT "change_log_item_version_fkey" FOREIGN KEY ("version") REFERENCES "change_log"("version") ON DELETE CASCADE ON UPDATE CASCADE;

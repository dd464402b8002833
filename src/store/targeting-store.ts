// Reads what the delivery index needs from Postgres: everything (for a build) or only what changed
// after a version (for an incremental apply). Each read is one REPEATABLE READ transaction, so the data
// and the version it is labelled with always agree.

import type { Db } from "../db/client.ts";
import type { CampaignDef, CategoryDef, DimensionValues, IndexChange } from "../delivery/snapshot.ts";
import { Prisma } from "../generated/prisma/client.ts";

type Tx = Prisma.TransactionClient;

export interface FullIndexData {
  version: number;
  campaigns: CampaignDef[];
  categories: CategoryDef[];
}

export type ChangesSince =
  | { kind: "current"; version: number }
  | { kind: "delta"; change: IndexChange }
  | { kind: "full"; data: FullIndexData };

// Bulk reads: one query per table beats relation joins' JSON aggregation (~1.0 s vs ~1.8 s for 45k campaigns).
const BULK_LOAD = "query" as const;

const DIMENSION_KEYS = { APP: "app", COUNTRY: "country", OS: "os", CATEGORY: "category" } as const;

const campaignSelect = {
  id: true,
  imageUrl: true,
  cta: true,
  status: true,
  priority: true,
  startsAt: true,
  endsAt: true,
  rules: { select: { dimension: true, mode: true, value: true } },
} satisfies Prisma.CampaignSelect;

type CampaignRow = Prisma.CampaignGetPayload<{ select: typeof campaignSelect }>;

function emptyValues(): Record<keyof DimensionValues, string[]> {
  return { app: [], country: [], os: [], category: [] };
}

function toCampaignDef(row: CampaignRow): CampaignDef {
  const include = emptyValues();
  const exclude = emptyValues();
  for (const rule of row.rules) {
    (rule.mode === "INCLUDE" ? include : exclude)[DIMENSION_KEYS[rule.dimension]].push(rule.value);
  }
  return {
    id: row.id,
    imageUrl: row.imageUrl,
    cta: row.cta,
    status: row.status,
    priority: row.priority,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    include,
    exclude,
  };
}

async function currentVersion(tx: Tx): Promise<number> {
  const counter = await tx.changeCounter.findUnique({ where: { id: 1 } });
  return counter?.version ?? 0;
}

async function readCategories(tx: Tx, ids?: string[]): Promise<CategoryDef[]> {
  const categories = await tx.category.findMany({
    relationLoadStrategy: BULK_LOAD,
    where: ids ? { id: { in: ids } } : undefined,
    select: { id: true, apps: { select: { app: true } } },
  });
  return categories.map((c) => ({ id: c.id, apps: c.apps.map((a) => a.app) }));
}

async function readFull(tx: Tx): Promise<FullIndexData> {
  const version = await currentVersion(tx);
  const rows = await tx.campaign.findMany({
    relationLoadStrategy: BULK_LOAD,
    where: { status: "ACTIVE" },
    select: campaignSelect,
  });
  return { version, campaigns: rows.map(toCampaignDef), categories: await readCategories(tx) };
}

const snapshotRead = { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: 60_000 };

export function loadFullIndexData(db: Db): Promise<FullIndexData> {
  return db.$transaction(readFull, snapshotRead);
}

interface DeltaRow {
  version: number;
  items: number;
  campaign_ids: string[] | null;
  category_ids: string[] | null;
  campaigns:
    | (Omit<CampaignDef, "include" | "exclude" | "startsAt" | "endsAt"> & {
        startsAt: string | null;
        endsAt: string | null;
        rules: [keyof typeof DIMENSION_KEYS, "INCLUDE" | "EXCLUDE", string][];
      })[]
    | null;
  categories: CategoryDef[] | null;
}

/**
 * What changed after `since`, in ONE statement (one round trip, one consistent snapshot): this runs
 * on every replica after every change, so its latency is the propagation latency. Falls back to a full
 * read when more than `maxItems` entities changed, or when the log is behind `since` (another database).
 */
export async function loadChangesSince(db: Db, since: number, maxItems: number): Promise<ChangesSince> {
  const [row] = await db.$queryRaw<DeltaRow[]>`
    WITH head AS (SELECT "version" FROM "change_counter" WHERE "id" = 1),
    changed AS (
      SELECT "campaign_id", "category_id" FROM "change_log_item"
      WHERE "version" > ${since} AND "version" <= (SELECT "version" FROM head)
      LIMIT ${maxItems + 1}
    )
    SELECT
      (SELECT "version" FROM head) AS "version",
      (SELECT count(*)::int FROM changed) AS "items",
      (SELECT array_agg(DISTINCT "campaign_id") FROM changed WHERE "campaign_id" IS NOT NULL) AS "campaign_ids",
      (SELECT array_agg(DISTINCT "category_id") FROM changed WHERE "category_id" IS NOT NULL) AS "category_ids",
      (SELECT json_agg(json_build_object(
          'id', c."id", 'imageUrl', c."image_url", 'cta', c."cta", 'status', c."status", 'priority', c."priority",
          'startsAt', c."starts_at", 'endsAt', c."ends_at",
          'rules', (SELECT coalesce(json_agg(json_build_array(r."dimension", r."mode", r."value")), '[]'::json)
                    FROM "targeting_rule" r WHERE r."campaign_id" = c."id")))
        FROM "campaign" c WHERE c."id" IN (SELECT "campaign_id" FROM changed)) AS "campaigns",
      (SELECT json_agg(json_build_object(
          'id', k."id",
          'apps', (SELECT coalesce(json_agg(a."app"), '[]'::json) FROM "category_app" a WHERE a."category_id" = k."id")))
        FROM "category" k WHERE k."id" IN (SELECT "category_id" FROM changed)) AS "categories"`;
  const version = row?.version ?? 0;
  if (version === since) return { kind: "current", version };
  if (!row || version < since || row.items > maxItems) return { kind: "full", data: await loadFullIndexData(db) };

  const campaigns = new Map<string, CampaignDef | null>((row.campaign_ids ?? []).map((id) => [id, null]));
  for (const c of row.campaigns ?? []) {
    campaigns.set(
      c.id,
      toCampaignDef({
        ...c,
        startsAt: c.startsAt === null ? null : new Date(c.startsAt),
        endsAt: c.endsAt === null ? null : new Date(c.endsAt),
        rules: c.rules.map(([dimension, mode, value]) => ({ dimension, mode, value })),
      }),
    );
  }
  const categories = new Map<string, CategoryDef | null>((row.category_ids ?? []).map((id) => [id, null]));
  for (const category of row.categories ?? []) categories.set(category.id, category);
  return { kind: "delta", change: { version, campaigns, categories } };
}

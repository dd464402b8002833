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

/**
 * What changed after `since`. Falls back to a full read when more than `maxItems` entities changed
 * (cheaper than applying them one by one) or when the log is behind `since` (a different database).
 */
export function loadChangesSince(db: Db, since: number, maxItems: number): Promise<ChangesSince> {
  return db.$transaction(async (tx): Promise<ChangesSince> => {
    const version = await currentVersion(tx);
    if (version === since) return { kind: "current", version };
    if (version < since) return { kind: "full", data: await readFull(tx) };
    const items = await tx.changeLogItem.findMany({
      where: { version: { gt: since } },
      select: { campaignId: true, categoryId: true },
      take: maxItems + 1,
    });
    if (items.length > maxItems) return { kind: "full", data: await readFull(tx) };

    const campaignIds = [...new Set(items.flatMap((i) => (i.campaignId ? [i.campaignId] : [])))];
    const categoryIds = [...new Set(items.flatMap((i) => (i.categoryId ? [i.categoryId] : [])))];
    const campaignRows = campaignIds.length
      ? await tx.campaign.findMany({
          relationLoadStrategy: BULK_LOAD,
          where: { id: { in: campaignIds } },
          select: campaignSelect,
        })
      : [];
    const categoryRows = categoryIds.length ? await readCategories(tx, categoryIds) : [];

    const campaigns = new Map<string, CampaignDef | null>(campaignIds.map((id) => [id, null]));
    for (const row of campaignRows) campaigns.set(row.id, toCampaignDef(row));
    const categories = new Map<string, CategoryDef | null>(categoryIds.map((id) => [id, null]));
    for (const row of categoryRows) categories.set(row.id, row);
    return { kind: "delta", change: { version, campaigns, categories } };
  }, snapshotRead);
}

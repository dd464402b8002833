// Request-scoped DataLoaders for data the Prisma plugin cannot plan: campaigns whose targeting rules
// name a category (there is no Prisma relation between rules and categories), and history pages.
import DataLoader from "dataloader";
import type { Db } from "../db/client.ts";
import type { Campaign, Prisma } from "../generated/prisma/client.ts";
import { type HistoryOf, loadHistory, type Revision } from "../store/history.ts";

/** The plugin's planned selection for the Campaign fields requested under Category.campaigns. */
export type CampaignQuery = { include?: Prisma.CampaignInclude; select?: Prisma.CampaignSelect };

export interface Loaders {
  /** One loader per distinct selection (aliases may ask different Campaign fields under one request). */
  campaignsByCategory(query: CampaignQuery): DataLoader<string, Campaign[]>;
  /** Pages of history (`first` revisions older than `before`), one query for every id asked together. */
  history<S>(of: HistoryOf, first: number, before: number | null): DataLoader<string, Revision<S>[]>;
}

export function createLoaders(db: Db): Loaders {
  const byQuery = new Map<string, DataLoader<string, Campaign[]>>();
  const histories = new Map<string, DataLoader<string, Revision<unknown>[]>>();
  return {
    history<S>(of: HistoryOf, first: number, before: number | null) {
      const key = `${of}:${first}:${before}`;
      let loader = histories.get(key);
      if (!loader) {
        loader = new DataLoader((ids) => loadHistory(db, of, ids, first, before));
        histories.set(key, loader);
      }
      return loader as DataLoader<string, Revision<S>[]>;
    },
    campaignsByCategory(query) {
      const key = JSON.stringify(query);
      let loader = byQuery.get(key);
      if (!loader) {
        loader = new DataLoader((ids) => loadCampaignsByCategory(db, ids, query));
        byQuery.set(key, loader);
      }
      return loader;
    },
  };
}

/**
 * One SQL query for a whole page of categories: the CATEGORY rules naming them, each with its campaign
 * loaded by the planned selection (relation joins), so Campaign.targeting below costs nothing more.
 */
async function loadCampaignsByCategory(db: Db, ids: readonly string[], query: CampaignQuery): Promise<Campaign[][]> {
  const campaign = query.select || query.include ? query : true;
  const rules = await db.targetingRule.findMany({
    where: { dimension: "CATEGORY", value: { in: [...ids] } },
    select: { value: true, campaignId: true, campaign },
    orderBy: [{ value: "asc" }, { campaignId: "asc" }],
  });
  const grouped = new Map<string, Map<string, Campaign>>();
  for (const rule of rules) {
    let campaigns = grouped.get(rule.value);
    if (!campaigns) {
      campaigns = new Map();
      grouped.set(rule.value, campaigns);
    }
    // A campaign naming the category in both include and exclude is listed once.
    campaigns.set(rule.campaignId, rule.campaign as Campaign);
  }
  return ids.map((id) => [...(grouped.get(id)?.values() ?? [])]);
}

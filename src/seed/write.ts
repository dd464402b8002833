// Writes a seed catalog in one transaction (so it is one change-log version), with the set-based
// statements importCampaigns and upsertCategory use (Prisma's createMany spent ~1 ms of CPU per
// campaign and its rules: seconds for a catalog of thousands).
import type { Db } from "../db/client.ts";
import { DIMENSIONS } from "../delivery/types.ts";
import { type CampaignRow, upsertCampaigns } from "../store/campaign-writes.ts";
import { insertCategories } from "../store/category-writes.ts";
import type { SeedData } from "./types.ts";

const DIMENSION_ENUM = { app: "APP", country: "COUNTRY", os: "OS", category: "CATEGORY" } as const;

function campaignRow({ include, exclude, ...fields }: SeedData["campaigns"][number]): CampaignRow {
  const rules = (["INCLUDE", "EXCLUDE"] as const).flatMap((mode) =>
    DIMENSIONS.flatMap((dimension) =>
      (mode === "INCLUDE" ? include : exclude)[dimension].map((value) => ({
        dimension: DIMENSION_ENUM[dimension],
        mode,
        value,
      })),
    ),
  );
  return { ...fields, rules };
}

export async function writeSeed(db: Db, data: SeedData): Promise<void> {
  await db.$transaction(
    async (tx) => {
      await insertCategories(tx, data.categories);
      await upsertCampaigns(tx, data.campaigns.map(campaignRow));
    },
    { timeout: 300_000 },
  );
}

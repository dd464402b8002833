// Writes a seed catalog in one transaction (so it is one change-log version).
import type { Db } from "../db/client.ts";
import type { Dimension } from "../delivery/types.ts";
import type { SeedData } from "./types.ts";

const DIMENSION_ENUM = { app: "APP", country: "COUNTRY", os: "OS", category: "CATEGORY" } as const;
const CHUNK = 5_000;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export async function writeSeed(db: Db, data: SeedData): Promise<void> {
  const rules = data.campaigns.flatMap((c) =>
    (["include", "exclude"] as const).flatMap((mode) =>
      (Object.keys(DIMENSION_ENUM) as Dimension[]).flatMap((dimension) =>
        c[mode][dimension].map((value) => ({
          campaignId: c.id,
          dimension: DIMENSION_ENUM[dimension],
          mode: mode === "include" ? ("INCLUDE" as const) : ("EXCLUDE" as const),
          value,
        })),
      ),
    ),
  );
  const apps = data.categories.flatMap((c) => c.apps.map((app) => ({ categoryId: c.id, app })));
  await db.$transaction(
    async (tx) => {
      for (const part of chunks(data.categories)) {
        await tx.category.createMany({ data: part.map(({ id, name }) => ({ id, name })) });
      }
      for (const part of chunks(apps)) await tx.categoryApp.createMany({ data: part });
      for (const part of chunks(data.campaigns)) {
        await tx.campaign.createMany({
          data: part.map((c) => ({
            id: c.id,
            name: c.name,
            imageUrl: c.imageUrl,
            cta: c.cta,
            status: c.status,
            priority: c.priority,
            startsAt: c.startsAt,
            endsAt: c.endsAt,
          })),
        });
      }
      for (const part of chunks(rules)) await tx.targetingRule.createMany({ data: part });
    },
    { timeout: 300_000 },
  );
}

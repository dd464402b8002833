// The embedded database's first start: an empty catalog gets the demo one, so `npm start` on a fresh
// clone answers the README's curl examples at once. A catalog with anything in it is left alone.
import type { Db } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { demoData } from "./demo.ts";
import { writeSeed } from "./write.ts";

export async function seedDemoIfEmpty(db: Db, log: Logger, onPhase?: (phase: string) => void): Promise<void> {
  if ((await db.campaign.count()) > 0 || (await db.category.count()) > 0) return;
  log.info("seeding the embedded database with the demo catalog");
  onPhase?.("seeding the demo catalog");
  const started = performance.now();
  await writeSeed(db, demoData);
  log.info(
    { campaigns: demoData.campaigns.length, ms: Math.round(performance.now() - started) },
    "embedded database seeded with the demo catalog",
  );
}

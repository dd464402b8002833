// Request-scoped batching of stats reads: every Campaign.stats field resolved in one request, whatever
// window it asks for, becomes ONE store read (the widest window), so a page of 100 campaigns costs one
// Redis round trip.
import DataLoader from "dataloader";
import { minuteOf } from "./minutes.ts";
import type { StatsStore } from "./store.ts";

export interface StatsKey {
  campaignId: string;
  /** How many minute buckets, ending with the current one. */
  minutes: number;
}

/** Per-minute counts for the key's window, oldest first (the last one is the current, partial minute). */
export type StatsLoader = DataLoader<StatsKey, number[], string>;

export function createStatsLoader(store: StatsStore, now: () => number = Date.now): StatsLoader {
  return new DataLoader<StatsKey, number[], string>(
    async (keys) => {
      const widest = Math.max(...keys.map((k) => k.minutes));
      const ids = [...new Set(keys.map((k) => k.campaignId))];
      const rows = await store.read(ids, minuteOf(now()), widest);
      const byId = new Map(ids.map((id, i) => [id, rows[i] as number[]]));
      return keys.map((k) => (byId.get(k.campaignId) as number[]).slice(widest - k.minutes));
    },
    { cacheKeyFn: (k) => `${k.minutes}:${k.campaignId}` },
  );
}

// A bulk change's own share of the event-loop stall: the change applied in slices to a snapshot of the
// catalog in this process, with no replica, Postgres or load generator competing for the cores. The
// replicas' figures include waiting for a core (three replicas build the same change at once on a
// 2-core machine); this one is what the index work itself holds the loop for.
import { fullChange, TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import type { CampaignDef } from "../../src/delivery/types.ts";
import type { SeedData } from "../../src/seed/types.ts";

export interface AloneResult {
  /** Until the changed snapshot could serve. */
  wallMs: number;
  /** Then folding the maps it left with large overlays (what a replica does next, while serving it). */
  foldMs: number;
  /** Longest time between two turns of a 1 ms timer while the change was applied and folded. */
  longestGapMs: number;
}

/** Applies `campaigns` (new or replacing) to a snapshot of `catalog`, `runs` times from the same snapshot. */
export async function applyAlone(catalog: SeedData, campaigns: CampaignDef[], runs: number): Promise<AloneResult[]> {
  const base = TargetingSnapshot.build(1, catalog.campaigns, catalog.categories);
  const change = fullChange(2, campaigns, []);
  const results: AloneResult[] = [];
  for (let run = 0; run < runs; run++) {
    let longest = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    const started = performance.now();
    const applied = await base.applyInSlices(change);
    const wallMs = performance.now() - started;
    await applied.compacted();
    const foldMs = performance.now() - started - wallMs;
    clearInterval(timer);
    results.push({ wallMs, foldMs, longestGapMs: Math.max(longest, performance.now() - last) });
  }
  return results;
}

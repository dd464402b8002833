// The device cache under populations larger than its byte budget: devices asking in a cycle longer than
// the cache used to evict each other before any came back (no hit at all); with frequency-based
// admission a stable share of them stays cached, answers stay exact, and the budget holds.
import { describe, expect, it } from "vitest";
import { TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import type { CampaignDef } from "../../src/delivery/types.ts";

const none = { app: [], os: [], country: [], category: [] };
const campaigns: CampaignDef[] = Array.from({ length: 6 }, (_, i) => ({
  id: `c${i}`,
  imageUrl: `https://img/${i}.png`,
  cta: "Go",
  status: "ACTIVE",
  priority: i,
  startsAt: null,
  endsAt: null,
  include: { ...none, country: i % 2 ? ["US"] : ["US", "CA"] },
  exclude: none,
}));

/** Requests as the handler sends them: the request text is the device-cache key. */
function askInCycles(snapshot: TargetingSnapshot, devices: number, cycles: number): number[] {
  const hitsPerCycle: number[] = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    let hits = 0;
    for (let d = 0; d < devices; d++) {
      const request = { app: `com.device${d}.app`, os: "ios", country: d % 3 ? "US" : "CA" };
      const key = JSON.stringify(request);
      const cached = snapshot.cached(key, 0);
      const answer = cached ?? snapshot.matchUncached(request, 0, key);
      if (cached) hits++;
      expect(answer.campaignIds).toEqual(
        request.country === "US" ? ["c5", "c4", "c3", "c2", "c1", "c0"] : ["c4", "c2", "c0"],
      );
    }
    hitsPerCycle.push(hits);
  }
  return hitsPerCycle;
}

describe("device cache admission", () => {
  const budget = 400_000; // the device cache gets 3/4 of it
  it("keeps a stable share of a cyclic population twice its size, exact and within budget", () => {
    // Fill once to learn how many fit, then ask a population about twice that, in a cycle.
    const snapshot = TargetingSnapshot.build(1, campaigns, [], { answerCacheBytes: budget });
    askInCycles(snapshot, 5_000, 3);
    const fit = snapshot.answerCacheUsage.devices;
    expect(fit).toBeGreaterThan(100);
    const fresh = TargetingSnapshot.build(1, campaigns, [], { answerCacheBytes: budget });
    const hits = askInCycles(fresh, 2 * fit, 6);
    // Cycles 1–2 only get devices seen and admitted; from then on about half are answered from the cache.
    for (const later of hits.slice(3)) expect(later).toBeGreaterThan(0.35 * 2 * fit);
    expect(fresh.answerCacheUsage.deviceBytes).toBeLessThanOrEqual((budget * 3) / 4);
  });

  it("still caches every device of a population that fits", () => {
    const snapshot = TargetingSnapshot.build(1, campaigns, [], { answerCacheBytes: 32 * 1024 * 1024 });
    const hits = askInCycles(snapshot, 3_000, 4);
    expect(hits.slice(2)).toEqual([3_000, 3_000]);
  });
});

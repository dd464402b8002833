// One uncached match at growing catalog sizes, in-process: the index's own cost, no HTTP.
import { TargetingSnapshot } from "../src/delivery/snapshot.ts";
import { generateSynthetic, syntheticRequests } from "../src/seed/synthetic.ts";
import type { SeedData } from "../src/seed/types.ts";

export interface MicroResult {
  campaigns: number;
  apps: number;
  nsPerMatch: number;
  nsPerCachedMatch: number;
  adsPerRequest: number;
  buildMs: number;
}

/** Countries no benchmark request comes from. */
const ELSEWHERE = ["ZW", "ZM", "BW", "NA", "MZ", "MW", "AO", "GA", "CM", "SN", "ML", "NE", "TD", "SD", "ET"];

/**
 * A catalog of `campaigns` where the campaigns beyond the first `matching` can never match the request
 * mix (their apps, categories and countries are elsewhere): isolates what non-matching campaigns cost.
 */
export function catalogWithBystanders(matching: number, campaigns: number, apps: number): SeedData {
  const base = generateSynthetic({ campaigns: matching, apps });
  if (campaigns <= matching) return base;
  const others = generateSynthetic({
    campaigns: campaigns - matching,
    apps: apps * (campaigns / matching),
    seed: 4242,
    namespace: "elsewhere",
    countries: ELSEWHERE,
  });
  return {
    campaigns: [...base.campaigns, ...others.campaigns],
    categories: [...base.categories, ...others.categories],
  };
}

export function measureMatch(
  campaigns: number,
  apps: number,
  data = generateSynthetic({ campaigns, apps }),
): MicroResult {
  const buildStart = performance.now();
  const uncached = TargetingSnapshot.build(1, data.campaigns, data.categories, { deviceCache: false });
  const buildMs = performance.now() - buildStart;
  const cached = TargetingSnapshot.build(1, data.campaigns, data.categories);
  const requests = syntheticRequests(20_000, apps);
  let ads = 0;
  for (const r of requests) ads += uncached.match(r).campaignIds.length; // warm-up and counts
  const time = (snapshot: TargetingSnapshot, rounds: number) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) for (const r of requests) snapshot.match(r);
    return Number(process.hrtime.bigint() - start) / (rounds * requests.length);
  };
  for (const r of requests) cached.match(r);
  return {
    campaigns,
    apps,
    nsPerMatch: time(uncached, 5),
    nsPerCachedMatch: time(cached, 5),
    adsPerRequest: ads / requests.length,
    buildMs,
  };
}

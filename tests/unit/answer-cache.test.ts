// The device cache under populations larger than its byte budget: devices asking in a cycle longer than
// the cache used to evict each other before any came back (no hit at all); with frequency-based
// admission a stable share of them stays cached, answers stay exact, and the budget holds.
import { memoryUsage } from "node:process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { DEFAULT_ANSWER_CACHE_BYTES, TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import type { CampaignDef } from "../../src/delivery/types.ts";
import { DeliveryCounter } from "../../src/stats/counter.ts";

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

// config.ts and delivery/ may not import each other (docs/ARCHITECTURE.md), so the default is written in both.
describe("default budget", () => {
  it("is the same for a replica (ANSWER_CACHE_MB unset) and for a snapshot built without options", () => {
    expect(loadConfig({}).ANSWER_CACHE_MB * 1024 * 1024).toBe(DEFAULT_ANSWER_CACHE_BYTES);
  });
});

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

describe("device cache budget", () => {
  // The budget is only a bound if an entry's accounted bytes are what it holds: at the old per-entry
  // estimate a full cache held ~1.2–1.3× its budget of V8 heap.
  // A compact answer is the entry's own; a large one is interned, the entry refers to it weakly.
  it.each([
    ["a compact answer", ""],
    ["a large, interned answer", "x".repeat(1_000)],
  ])("counts about the V8 heap its entries hold, as delivery keeps them (within 15%): %s", async (_kind, longPath) => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    // Flight bounds make an entry's validity span finite; delivery counts every answer it serves.
    const inFlight = campaigns.map((c, i) => ({
      ...c,
      imageUrl: `${c.imageUrl}${longPath}`,
      endsAt: new Date(Date.UTC(2099, 0, 1 + i)),
    }));
    const snapshot = TargetingSnapshot.build(1, inFlight, [], { answerCacheBytes: 1024 * 1024 * 1024 });
    const counter = new DeliveryCounter();
    const devices = 20_000;
    const keys = Array.from({ length: devices }, (_, d) =>
      JSON.stringify({ app: `com.example.device${String(d).padStart(6, "0")}`, os: "ios", country: "US" }),
    );
    const now = Date.UTC(2030, 0, 1);
    // Seen once (the admission filter), then kept on the second ask.
    for (const key of keys) snapshot.matchUncached(JSON.parse(key), now, key);
    gc();
    const before = memoryUsage().heapUsed;
    for (const key of keys) counter.count(snapshot.matchUncached(JSON.parse(key), now, key), now);
    await counter.take(); // the flush resolves each tally's cells once
    gc();
    const held = memoryUsage().heapUsed - before;
    const usage = snapshot.answerCacheUsage;
    expect(usage.devices).toBe(devices);
    expect(usage.answers).toBe(longPath ? 1 : 0);
    expect(usage.deviceBytes / held).toBeGreaterThan(0.85);
    expect(usage.deviceBytes / held).toBeLessThan(1.15);
  });
});

describe("answer table budget", () => {
  // Interned (large) answers hold their bodies outside the V8 heap (a buffer each): the table's bytes
  // must count both, or a full table holds more than ANSWER_CACHE_MB says.
  it("counts about the heap and buffer memory its interned answers hold (within 15%)", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    // Campaign i targets the apps whose number has bit i set: every app gets a set of its own.
    const bits = 9;
    const byBit: CampaignDef[] = Array.from({ length: bits }, (_, i) => ({
      id: `campaign-${String(i).padStart(2, "0")}`,
      // Every answer large enough to be interned, even of one ad.
      imageUrl: `https://cdn.example.com/creatives/${i}/${"banner-320x50-".repeat(300)}.png`,
      cta: "Install now",
      status: "ACTIVE",
      priority: i % 3,
      startsAt: null,
      endsAt: null,
      include: {
        ...none,
        app: Array.from({ length: 2 ** bits }, (_, k) => `app${k}`).filter((_, k) => k & (1 << i)),
      },
      exclude: none,
    }));
    const snapshot = TargetingSnapshot.build(1, byBit, [], {
      answerCacheBytes: 1024 * 1024 * 1024,
      deviceCache: false,
    });
    const asks = Array.from({ length: 2 ** bits - 1 }, (_, k) => ({ app: `app${k + 1}`, os: "ios", country: "US" }));
    // Each set seen once, then interned on the second ask.
    for (const request of asks) snapshot.match(request, 0);
    gc();
    const before = memoryUsage().heapUsed;
    const kept = asks.map((request) => snapshot.match(request, 0));
    gc();
    // The bodies' buffers are outside the heap, exactly their length each (process-wide counters such
    // as memoryUsage().arrayBuffers also move with whatever else runs in this process).
    const bodies = kept.reduce((sum, answer) => sum + (answer.encoded?.byteLength ?? 0), 0);
    const held = memoryUsage().heapUsed - before + bodies;
    const usage = snapshot.answerCacheUsage;
    expect(new Set(kept).size).toBe(asks.length);
    expect(kept.every((answer) => answer.encoded !== null)).toBe(true);
    expect(usage.answerBytes / held).toBeGreaterThan(0.85);
    expect(usage.answerBytes / held).toBeLessThan(1.15);
  });
});

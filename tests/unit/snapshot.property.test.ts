// The index must answer exactly what docs/CONTRACT.md §2 says, for any catalog, any request and any
// sequence of changes — whether a change is applied at once or in slices, and whatever the cache holds.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Answer, bodyOf } from "../../src/delivery/answers.ts";
import { TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import type { CampaignDef, CategoryDef, DeviceRequest, IndexChange } from "../../src/delivery/types.ts";
import { generateSynthetic, syntheticRequests } from "../../src/seed/synthetic.ts";
import {
  APPS,
  bruteForce,
  CATEGORIES,
  campaignArbitrary,
  catalogArbitrary,
  HOUR,
  NOW,
  requestArbitrary,
  served,
} from "../helpers/targeting.ts";

const moment = fc.integer({ min: -4, max: 4 }).map((h) => NOW + h * HOUR + 1);
const EVERY_REQUEST: DeviceRequest[] = APPS.concat("unknown").flatMap((app) =>
  ["android", "ios", "web"].flatMap((os) => ["US", "CA", "DE", "FR", "JP"].map((country) => ({ app, os, country }))),
);

/** One change: some campaigns replaced or removed, some categories replaced or removed (any size). */
const changeArbitrary = fc.record({
  campaigns: fc
    .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,2}$/), { maxLength: 40 })
    .chain((ids) =>
      fc.tuple(
        ...ids.map((id) => fc.option(campaignArbitrary(id), { nil: null, freq: 4 }).map((def) => [id, def] as const)),
      ),
    ),
  categories: fc.subarray(CATEGORIES).chain((ids) =>
    fc.tuple(
      ...ids.map((id) =>
        fc
          .option(
            fc.subarray(APPS).map((apps): CategoryDef => ({ id, apps })),
            { nil: null, freq: 3 },
          )
          .map((def) => [id, def] as const),
      ),
    ),
  ),
});

class Model {
  campaigns = new Map<string, CampaignDef>();
  categories = new Map<string, CategoryDef>();
  constructor(campaigns: CampaignDef[], categories: CategoryDef[]) {
    for (const c of campaigns) this.campaigns.set(c.id, c);
    for (const c of categories) this.categories.set(c.id, c);
  }
  apply(change: IndexChange): void {
    for (const [id, def] of change.categories) def ? this.categories.set(id, def) : this.categories.delete(id);
    for (const [id, def] of change.campaigns) def ? this.campaigns.set(id, def) : this.campaigns.delete(id);
  }
  expected(request: DeviceRequest, now: number): string[] {
    return bruteForce([...this.campaigns.values()], [...this.categories.values()], request, now);
  }
}

describe("targeting snapshot", () => {
  it("returns exactly the campaigns a brute-force reading of the contract returns, in order", () => {
    fc.assert(
      fc.property(
        catalogArbitrary,
        fc.array(fc.tuple(requestArbitrary, moment), { minLength: 1, maxLength: 8 }),
        ({ campaigns, categories }, requests) => {
          const snapshot = TargetingSnapshot.build(1, campaigns, categories);
          for (const [req, now] of requests) {
            const expected = bruteForce(campaigns, categories, req, now);
            const result = snapshot.match(req, now);
            expect(result.campaignIds).toEqual(expected);
            const body = bodyOf(result);
            expect(served(body)).toEqual(expected);
            expect(result.bytes).toBe(body === null ? 0 : Buffer.byteLength(body));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("after any sequence of changes of any size, applied in slices, answers like a build from scratch", async () => {
    await fc.assert(
      fc.asyncProperty(
        catalogArbitrary,
        fc.array(changeArbitrary, { minLength: 1, maxLength: 5 }),
        fc.constantFrom(0, 1_000_000),
        async (start, changes, sliceMs) => {
          let snapshot = TargetingSnapshot.build(1, start.campaigns, start.categories);
          const model = new Model(start.campaigns, start.categories);
          let version = 1;
          for (const { campaigns, categories } of changes) {
            const change: IndexChange = {
              version: ++version,
              campaigns: new Map(campaigns),
              categories: new Map(categories),
            };
            const before = snapshot;
            const beforeAnswers = EVERY_REQUEST.map((r) => before.match(r, NOW).campaignIds);
            // While the slices run, the current snapshot keeps serving its own (old) answers.
            let servedMeanwhile = 0;
            const reader = setInterval(() => {
              const i = servedMeanwhile++ % EVERY_REQUEST.length;
              expect(before.match(EVERY_REQUEST[i] as DeviceRequest, NOW).campaignIds).toEqual(beforeAnswers[i]);
            }, 0);
            snapshot = await before.applyInSlices(change, sliceMs);
            clearInterval(reader);
            model.apply(change);
            for (const r of EVERY_REQUEST) expect(snapshot.match(r, NOW).campaignIds).toEqual(model.expected(r, NOW));
            // Folded as a replica does once the change serves (every other time: the next change also
            // starts from maps left unfolded), answering the same from the same device cache.
            if (version % 2 === 0) snapshot = await snapshot.compacted(sliceMs);
            for (const r of EVERY_REQUEST) expect(snapshot.match(r, NOW).campaignIds).toEqual(model.expected(r, NOW));
            expect(EVERY_REQUEST.map((r) => before.match(r, NOW).campaignIds)).toEqual(beforeAnswers);
          }
          const fresh = TargetingSnapshot.build(version, model.campaigns.values(), model.categories.values());
          for (const r of EVERY_REQUEST)
            expect(snapshot.match(r, NOW).campaignIds).toEqual(fresh.match(r, NOW).campaignIds);
          expect(snapshot.campaignCount).toBe(fresh.campaignCount);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("applies bulk changes (thousands of campaigns, a 5,000-app category) in slices like a build from scratch, folded or not", async () => {
    const apps = 20_000;
    const first = generateSynthetic({ campaigns: 3_000, apps, seed: 1 });
    const second = generateSynthetic({ campaigns: 3_000, apps, seed: 2 });
    let snapshot = await TargetingSnapshot.empty().rebuildInSlices(1, first.campaigns, first.categories);
    const model = new Model(first.campaigns, first.categories);
    const bigCategory: CategoryDef = {
      id: "cat1",
      apps: Array.from({ length: 5_000 }, (_, i) => `com.synthetic.app${i * 3}`),
    };
    const changes: IndexChange[] = [
      // Half the catalog replaced, a tenth deleted, a large category rewritten.
      {
        version: 2,
        campaigns: new Map([
          ...second.campaigns.slice(0, 1_500).map((c) => [c.id, c] as const),
          ...first.campaigns.slice(2_700).map((c) => [c.id, null] as const),
        ]),
        categories: new Map([[bigCategory.id, bigCategory]]),
      },
      // Everything paused, then the category deleted.
      {
        version: 3,
        campaigns: new Map(second.campaigns.map((c) => [c.id, { ...c, status: "PAUSED" as const }])),
        categories: new Map([["cat2", null]]),
      },
    ];
    const requests = syntheticRequests(3_000, apps, 11);
    for (const change of changes) {
      snapshot = await snapshot.applyInSlices(change, 1);
      model.apply(change);
      const fresh = TargetingSnapshot.build(change.version, model.campaigns.values(), model.categories.values());
      // A bulk change leaves large overlays: folded afterwards, the snapshot answers the same. The next
      // change starts from the unfolded one (it folds first, itself).
      const folded = await snapshot.compacted(1);
      expect(folded).not.toBe(snapshot);
      expect(folded.version).toBe(snapshot.version);
      for (const candidate of [snapshot, folded]) {
        for (const r of requests) expect(candidate.match(r).campaignIds).toEqual(fresh.match(r).campaignIds);
        for (const r of requests.slice(0, 200))
          expect(candidate.match(r).campaignIds).toEqual(model.expected(r, Date.now()));
      }
      expect(await folded.compacted(1)).toBe(folded);
    }
  });

  it("starts and stops serving a campaign when its flight window opens and closes, without a write", () => {
    const base = { imageUrl: "https://img/x.png", cta: "Go", status: "ACTIVE" as const, priority: 1 };
    const none = { app: [], os: [], country: [], category: [] };
    const snapshot = TargetingSnapshot.build(
      1,
      [
        {
          ...base,
          id: "flight",
          startsAt: new Date(NOW + HOUR),
          endsAt: new Date(NOW + 2 * HOUR),
          include: none,
          exclude: none,
        },
      ],
      [],
    );
    const req = { app: "a1", os: "ios", country: "US" };
    // Each request twice: the second is answered from the device cache, which must honour the window too.
    for (const now of [NOW, NOW, NOW + HOUR, NOW + HOUR, NOW + 2 * HOUR, NOW + 2 * HOUR, NOW, NOW]) {
      expect(snapshot.match(req, now).campaignIds).toEqual(now === NOW + HOUR ? ["flight"] : []);
    }
  });

  it("keeps answers correct while a tiny answer cache evicts, and stays within its byte budget", () => {
    fc.assert(
      fc.property(
        catalogArbitrary,
        fc.array(fc.tuple(requestArbitrary, moment), { minLength: 1, maxLength: 60 }),
        fc.constantFrom(0, 2_000, 20_000),
        ({ campaigns, categories }, requests, budget) => {
          const snapshot = TargetingSnapshot.build(1, campaigns, categories, { answerCacheBytes: budget });
          for (const [req, now] of [...requests, ...requests]) {
            expect(snapshot.match(req, now).campaignIds).toEqual(bruteForce(campaigns, categories, req, now));
          }
          expect(snapshot.answerCacheUsage.deviceBytes).toBeLessThanOrEqual((budget * 3) / 4);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("holds one answer per distinct set of ads, however many devices get it", () => {
    const none = { app: [], os: [], country: [], category: [] };
    const all = Array.from({ length: 300 }, (_, i) => ({
      id: `c${String(i).padStart(3, "0")}`,
      imageUrl: `https://img/${i}.png`,
      cta: "Go",
      status: "ACTIVE" as const,
      priority: i % 7,
      startsAt: null,
      endsAt: null,
      include: { ...none, country: ["US"] },
      exclude: none,
    }));
    const snapshot = TargetingSnapshot.build(1, all, []);
    const answers = Array.from({ length: 5_000 }, (_, i) =>
      snapshot.match({ app: `device${i}`, os: "ios", country: "US" }),
    );
    // The first device gets an answer built for it; from the second on (the set was seen) it is shared,
    // its body encoded once.
    expect(new Set(answers.slice(1)).size).toBe(1);
    const [first, shared] = answers as [Answer, Answer];
    expect(String(bodyOf(first))).toBe(String(bodyOf(shared)));
    expect(shared.encoded).toBeInstanceOf(Buffer);
    expect(shared.campaignIds).toHaveLength(300);
    expect(snapshot.answerCacheUsage.answers).toBe(1);
  });

  it("answers exactly for more (country, os) pairs than a category's candidate splits are kept for", () => {
    // The matcher splits a category's candidates per country and os on first use, up to a limit per
    // list; past it, it checks them in full. Both ways must give the same answers.
    const none = { app: [], os: [], country: [], category: [] };
    const countries = Array.from({ length: 40 }, (_, i) => `C${i}`);
    const oses = Array.from({ length: 20 }, (_, i) => `os${i}`);
    const campaigns: CampaignDef[] = Array.from({ length: 60 }, (_, i) => ({
      id: `k${i}`,
      imageUrl: `https://img/${i}.png`,
      cta: "Go",
      status: "ACTIVE",
      priority: i % 5,
      startsAt: null,
      endsAt: null,
      include: {
        ...none,
        category: i % 3 ? ["music"] : ["music", "games"],
        country: i % 4 ? countries.filter((_, c) => (c + i) % 3 === 0) : [],
        os: i % 5 ? [] : oses.filter((_, o) => (o + i) % 2 === 0),
      },
      exclude: { ...none, app: i % 7 ? [] : ["a2"] },
    }));
    const categories: CategoryDef[] = [
      { id: "music", apps: ["a1", "a2", "a3"] },
      { id: "games", apps: ["a2", "a3"] },
    ];
    const snapshot = TargetingSnapshot.build(1, campaigns, categories, { deviceCache: false });
    for (const country of countries)
      for (const os of oses)
        for (const app of ["a1", "a2", "a3"]) {
          const req = { app, os, country };
          expect(snapshot.match(req, NOW).campaignIds).toEqual(bruteForce(campaigns, categories, req, NOW));
        }
  });
});

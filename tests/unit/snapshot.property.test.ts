// The index must answer exactly what CONTRACT §2 says, for any catalog and request.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CampaignDef,
  type CategoryDef,
  type DeviceRequest,
  DIMENSIONS,
  type DimensionValues,
  TargetingSnapshot,
} from "../../src/delivery/snapshot.ts";

const APPS = ["a1", "a2", "a3", "a4", "a5"];
const OSES = ["android", "ios", "web"];
const COUNTRIES = ["US", "CA", "DE", "FR"];
const CATEGORIES = ["music", "games", "news"];
const NOW = Date.UTC(2026, 10, 24, 12);
const HOUR = 3_600_000;

const values = <T>(pool: T[]) => fc.subarray(pool, { maxLength: 3 });
const dimensionValues: fc.Arbitrary<DimensionValues> = fc.record({
  app: values(APPS),
  os: values(OSES),
  country: values(COUNTRIES),
  category: values(CATEGORIES),
});
const instant = fc.option(
  fc.integer({ min: -3, max: 3 }).map((h) => new Date(NOW + h * HOUR)),
  { nil: null },
);

const campaign = (id: string): fc.Arbitrary<CampaignDef> =>
  fc
    .record({
      status: fc.constantFrom("ACTIVE" as const, "ACTIVE" as const, "PAUSED" as const),
      priority: fc.integer({ min: 0, max: 3 }),
      startsAt: instant,
      endsAt: instant,
      // Sparse rules: most campaigns leave most dimensions open, like real ones.
      include: fc.oneof(dimensionValues, fc.constant({ app: [], os: [], country: [], category: [] })),
      exclude: fc.oneof(fc.constant({ app: [], os: [], country: [], category: [] }), dimensionValues),
    })
    .map((c) => ({ id, imageUrl: `https://img/${id}.png`, cta: `cta ${id}`, ...c }));

const catalog = fc.record({
  campaigns: fc
    .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/), { minLength: 0, maxLength: 12 })
    .chain((ids) => fc.tuple(...ids.map(campaign))),
  categories: fc.tuple(...CATEGORIES.map((id) => values(APPS).map((apps): CategoryDef => ({ id, apps })))),
});
const request: fc.Arbitrary<DeviceRequest> = fc.record({
  app: fc.constantFrom(...APPS, "unknown"),
  os: fc.constantFrom(...OSES),
  country: fc.constantFrom(...COUNTRIES, "JP"),
});
const moment = fc.integer({ min: -4, max: 4 }).map((h) => NOW + h * HOUR + 1);

/** CONTRACT §2, read literally: the reference the index is checked against. */
function bruteForce(campaigns: CampaignDef[], categories: CategoryDef[], req: DeviceRequest, now: number): string[] {
  const requestCategories = categories.filter((c) => c.apps.includes(req.app)).map((c) => c.id);
  const dimensionMatches = (c: CampaignDef, d: (typeof DIMENSIONS)[number]) => {
    const requestValues = d === "category" ? requestCategories : [req[d]];
    const included = c.include[d].length === 0 || requestValues.some((v) => c.include[d].includes(v));
    const excluded = requestValues.some((v) => c.exclude[d].includes(v));
    return included && !excluded;
  };
  return campaigns
    .filter((c) => c.status === "ACTIVE")
    .filter(
      (c) => (c.startsAt === null || c.startsAt.getTime() <= now) && (c.endsAt === null || now < c.endsAt.getTime()),
    )
    .filter((c) => DIMENSIONS.every((d) => dimensionMatches(c, d)))
    .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : 1))
    .map((c) => c.id);
}

const served = (body: Buffer | null) =>
  body ? (JSON.parse(body.toString()) as { cid: string }[]).map((a) => a.cid) : [];

describe("targeting snapshot", () => {
  it("returns exactly the campaigns a brute-force reading of the contract returns, in order", () => {
    fc.assert(
      fc.property(
        catalog,
        fc.array(fc.tuple(request, moment), { minLength: 1, maxLength: 8 }),
        ({ campaigns, categories }, requests) => {
          const snapshot = TargetingSnapshot.build(1, campaigns, categories);
          for (const [req, now] of requests) {
            const expected = bruteForce(campaigns, categories, req, now);
            const result = snapshot.match(req, now);
            expect(result.campaignIds).toEqual(expected);
            expect(served(result.body)).toEqual(expected);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it("answers the same after incremental changes as a snapshot built from scratch", () => {
    fc.assert(
      fc.property(catalog, catalog, fc.array(request, { minLength: 1, maxLength: 6 }), (before, after, requests) => {
        let snapshot = TargetingSnapshot.build(1, before.campaigns, before.categories);
        const oldSnapshot = snapshot;
        const oldAnswers = requests.map((r) => oldSnapshot.match(r, NOW).campaignIds);
        // Apply "after" as one change per entity: removals, replacements and additions. Every
        // intermediate snapshot answers (filling its cache, which the next one may inherit) and must
        // agree with the contract for the catalog as it is at that step.
        const ids = new Set([...before.campaigns, ...after.campaigns].map((c) => c.id));
        const currentCampaigns = new Map(before.campaigns.map((c) => [c.id, c]));
        const currentCategories = new Map(before.categories.map((c) => [c.id, c]));
        // Each step asks only some of the requests, so later snapshots must look several snapshots back.
        let step = 0;
        const checkStep = () => {
          step++;
          for (const [i, r] of requests.entries()) {
            if ((i + step) % 3 !== 0) continue;
            expect(snapshot.match(r, NOW).campaignIds).toEqual(
              bruteForce([...currentCampaigns.values()], [...currentCategories.values()], r, NOW),
            );
          }
        };
        checkStep();
        let version = 1;
        for (const id of ids) {
          const def = after.campaigns.find((c) => c.id === id) ?? null;
          snapshot = snapshot.apply({ version: ++version, campaigns: new Map([[id, def]]), categories: new Map() });
          if (def) currentCampaigns.set(id, def);
          else currentCampaigns.delete(id);
          checkStep();
        }
        for (const category of after.categories) {
          const def = category.apps.length ? category : null;
          snapshot = snapshot.apply({
            version: ++version,
            campaigns: new Map(),
            categories: new Map([[category.id, def]]),
          });
          if (def) currentCategories.set(category.id, def);
          else currentCategories.delete(category.id);
          checkStep();
        }
        const expectedCategories = after.categories.filter((c) => c.apps.length);
        const fresh = TargetingSnapshot.build(version, after.campaigns, expectedCategories);
        for (const r of requests) {
          expect(snapshot.match(r, NOW).campaignIds).toEqual(fresh.match(r, NOW).campaignIds);
          expect(snapshot.match(r, NOW).campaignIds).toEqual(bruteForce(after.campaigns, expectedCategories, r, NOW));
        }
        // The old snapshot is immutable: still the old answers.
        expect(requests.map((r) => oldSnapshot.match(r, NOW).campaignIds)).toEqual(oldAnswers);
        expect(snapshot.version).toBe(version);
      }),
      { numRuns: 1000 },
    );
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
    expect(snapshot.match(req, NOW).campaignIds).toEqual([]);
    expect(snapshot.match(req, NOW + HOUR).campaignIds).toEqual(["flight"]);
    expect(snapshot.match(req, NOW + 2 * HOUR).campaignIds).toEqual([]);
  });

  it("bounds the per-snapshot answer cache", () => {
    const none = { app: [], os: [], country: [], category: [] };
    const snapshot = TargetingSnapshot.build(
      1,
      [
        {
          id: "all",
          imageUrl: "https://img/x.png",
          cta: "Go",
          status: "ACTIVE",
          priority: 1,
          startsAt: null,
          endsAt: null,
          include: none,
          exclude: none,
        },
      ],
      [],
      { maxCacheEntries: 10 },
    );
    for (let i = 0; i < 100; i++) snapshot.match({ app: `app${i}`, os: "ios", country: "US" });
    expect((snapshot as unknown as { cache: { size: number } }).cache.size).toBe(10);
  });
});

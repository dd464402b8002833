// Generators for targeting catalogs and device requests (fast-check), and the brute-force reading of
// docs/CONTRACT.md §2 that the index is checked against.
import fc from "fast-check";
import {
  type CampaignDef,
  type CategoryDef,
  type DeviceRequest,
  DIMENSIONS,
  type DimensionValues,
} from "../../src/delivery/types.ts";

export const APPS = ["a1", "a2", "a3", "a4", "a5"];
export const OSES = ["android", "ios", "web"];
export const COUNTRIES = ["US", "CA", "DE", "FR"];
export const CATEGORIES = ["music", "games", "news"];
export const NOW = Date.UTC(2026, 10, 24, 12);
export const HOUR = 3_600_000;

const values = <T>(pool: T[]) => fc.subarray(pool, { maxLength: 3 });
const NO_RULES: DimensionValues = { app: [], os: [], country: [], category: [] };
export const dimensionValues: fc.Arbitrary<DimensionValues> = fc.record({
  app: values(APPS),
  os: values(OSES),
  country: values(COUNTRIES),
  category: values(CATEGORIES),
});
const instant = fc.option(
  fc.integer({ min: -3, max: 3 }).map((h) => new Date(NOW + h * HOUR)),
  { nil: null },
);

export const campaignArbitrary = (id: string): fc.Arbitrary<CampaignDef> =>
  fc
    .record({
      status: fc.constantFrom("ACTIVE" as const, "ACTIVE" as const, "PAUSED" as const),
      priority: fc.integer({ min: 0, max: 3 }),
      startsAt: instant,
      endsAt: instant,
      // Sparse rules: most campaigns leave most dimensions open, like real ones.
      include: fc.oneof(dimensionValues, fc.constant(NO_RULES)),
      exclude: fc.oneof(fc.constant(NO_RULES), dimensionValues),
    })
    .map((c) => ({ id, imageUrl: `https://img/${id}.png`, cta: `cta ${id}`, ...c }));

export const catalogArbitrary = fc.record({
  campaigns: fc
    .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,3}$/), { minLength: 0, maxLength: 12 })
    .chain((ids) => fc.tuple(...ids.map(campaignArbitrary))),
  categories: fc.tuple(...CATEGORIES.map((id) => values(APPS).map((apps): CategoryDef => ({ id, apps })))),
});

export const requestArbitrary: fc.Arbitrary<DeviceRequest> = fc.record({
  app: fc.constantFrom(...APPS, "unknown"),
  os: fc.constantFrom(...OSES),
  country: fc.constantFrom(...COUNTRIES, "JP"),
});

/** docs/CONTRACT.md §2, read literally. */
export function bruteForce(
  campaigns: CampaignDef[],
  categories: CategoryDef[],
  req: DeviceRequest,
  now: number,
): string[] {
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

export const served = (body: Buffer | string | null) =>
  body !== null ? (JSON.parse(String(body)) as { cid: string }[]).map((a) => a.cid) : [];

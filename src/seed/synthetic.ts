// A large deterministic catalog for benchmarks: `npm run db:seed -- --campaigns 5000 --apps 100000`.
// Shaped like real inventory: most campaigns target apps or app categories plus a few countries,
// a few run everywhere in some countries; some are paused or outside their flight window.
import type { DeviceRequest, DimensionValues } from "../delivery/types.ts";
import type { SeedData } from "./types.ts";

export const SYNTHETIC_COUNTRIES = [
  "US",
  "CA",
  "MX",
  "BR",
  "AR",
  "CO",
  "CL",
  "PE",
  "GB",
  "IE",
  "FR",
  "DE",
  "ES",
  "PT",
  "IT",
  "NL",
  "BE",
  "CH",
  "AT",
  "SE",
  "NO",
  "DK",
  "FI",
  "PL",
  "CZ",
  "RO",
  "GR",
  "TR",
  "RU",
  "UA",
  "IN",
  "PK",
  "BD",
  "CN",
  "JP",
  "KR",
  "TW",
  "HK",
  "SG",
  "MY",
  "ID",
  "TH",
  "VN",
  "PH",
  "AU",
  "NZ",
  "ZA",
  "NG",
  "EG",
  "SA",
];
export const SYNTHETIC_OS = ["android", "ios", "harmonyos"];

/** mulberry32: a tiny seeded PRNG, so a seed always gives the same catalog and request mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const syntheticApp = (i: number, namespace = "synthetic") => `com.${namespace}.app${i}`;

export interface SyntheticOptions {
  campaigns: number;
  apps: number;
  seed?: number;
  now?: number;
  /** Keeps several generated catalogs apart: app, category and campaign names carry it. */
  namespace?: string;
  countries?: readonly string[];
  /** How many categories share the apps (default one per 1,000 apps). */
  categories?: number;
}

export function generateSynthetic({
  campaigns,
  apps,
  seed = 42,
  now = Date.now(),
  namespace = "synthetic",
  countries = SYNTHETIC_COUNTRIES,
  categories: categoryCount = Math.max(2, Math.round(apps / 1000)),
}: SyntheticOptions): SeedData {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(list: readonly T[], count: number): T[] => {
    const out = new Set<T>();
    while (out.size < Math.min(count, list.length)) out.add(list[int(list.length)] as T);
    return [...out];
  };
  const randomApps = (count: number) => [
    ...new Set(Array.from({ length: count }, () => syntheticApp(int(apps), namespace))),
  ];
  const prefix = namespace === "synthetic" ? "" : `${namespace}-`;

  const categoryApps: string[][] = Array.from({ length: categoryCount }, () => []);
  for (let i = 0; i < apps; i++) {
    categoryApps[int(categoryCount)]?.push(syntheticApp(i, namespace));
    if (random() < 0.3) categoryApps[int(categoryCount)]?.push(syntheticApp(i, namespace));
  }
  const categories = categoryApps.map((list, i) => ({
    id: `${prefix}cat${i}`,
    name: `Category ${prefix}${i}`,
    apps: [...new Set(list)],
  }));
  const categoryIds = categories.map((c) => c.id);

  const day = 86_400_000;
  const data: SeedData = { categories, campaigns: [] };
  for (let i = 0; i < campaigns; i++) {
    const include: DimensionValues = { app: [], country: [], os: [], category: [] };
    const exclude: DimensionValues = { app: [], country: [], os: [], category: [] };
    const shape = random();
    if (shape < 0.55) include.app = randomApps(1 + int(20));
    else if (shape < 0.97) include.category = pick(categoryIds, 1 + int(2));
    if (shape >= 0.97 || random() < 0.7) include.country = pick(countries, 1 + int(shape >= 0.97 ? 2 : 8));
    if (random() < 0.4) include.os = pick(SYNTHETIC_OS, 1);
    if (random() < 0.2) exclude.app = randomApps(1 + int(5));
    if (random() < 0.1) exclude.country = pick(countries, 1 + int(3));
    const window = random();
    data.campaigns.push({
      id: `${prefix}c${String(i).padStart(6, "0")}`,
      name: `Synthetic campaign ${i}`,
      imageUrl: `https://cdn.bullseye.example/synthetic/${i}.png`,
      cta: "Install",
      status: random() < 0.9 ? "ACTIVE" : "PAUSED",
      priority: int(1001),
      startsAt: window < 0.1 ? new Date(now + int(30) * day + day) : window < 0.2 ? new Date(now - 30 * day) : null,
      endsAt:
        window >= 0.1 && window < 0.15
          ? new Date(now - day)
          : window >= 0.15 && window < 0.2
            ? new Date(now + 30 * day)
            : null,
      include,
      exclude,
    });
  }
  return data;
}

/**
 * A broad catalog: every campaign targets a few countries and nothing else, so each answer carries
 * hundreds of ads (tens of KB) — the case where per-response work must not grow with the answer.
 */
export function generateBroad({ campaigns, seed = 42 }: { campaigns: number; seed?: number }): SeedData {
  const random = prng(seed);
  const none = { app: [], country: [], os: [], category: [] };
  return {
    categories: [],
    campaigns: Array.from({ length: campaigns }, (_, i) => ({
      id: `broad-${String(i).padStart(6, "0")}`,
      name: `Broad campaign ${i}`,
      imageUrl: `https://cdn.bullseye.example/creatives/broad/campaign-${i}/banner-320x50@2x.png`,
      cta: "Install now",
      status: "ACTIVE" as const,
      priority: Math.floor(random() * 1001),
      startsAt: null,
      endsAt: null,
      include: {
        ...none,
        country: [
          ...new Set(Array.from({ length: 5 }, () => SYNTHETIC_COUNTRIES[Math.floor(random() * 50)] as string)),
        ],
      },
      exclude: none,
    })),
  };
}

/** Device requests shaped like traffic: known apps, ~50 countries, 3 OSes, some unknown apps. */
export function syntheticRequests(count: number, apps: number, seed = 7): DeviceRequest[] {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  return Array.from({ length: count }, () => ({
    app: random() < 0.05 ? `com.unknown.app${int(1_000_000)}` : syntheticApp(int(apps)),
    os: SYNTHETIC_OS[int(random() < 0.95 ? 2 : 3)] as string,
    country: SYNTHETIC_COUNTRIES[int(SYNTHETIC_COUNTRIES.length)] as string,
  }));
}

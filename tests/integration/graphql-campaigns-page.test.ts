// campaignsPage (CONTRACT §5): search by id or name, filters (status, live, targets), the four orders,
// cursor paging that visits every campaign once, totalCount, and coded errors for bad arguments.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient, type Loose, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version } }`;
const PAGE = `query($filter: CampaignFilter, $orderBy: CampaignOrder, $first: Int, $after: String) {
  campaignsPage(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount endCursor hasNextPage nodes { id name priority status stats { servedLastHour } }
  }
}`;

const DAY = 86_400_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

const campaign = (id: string, extra: Loose = {}) => ({
  id,
  name: `Campaign ${id}`,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Go",
  ...extra,
});

const CATALOG = [
  campaign("alpha", { name: "Summer SALE", priority: 5, targeting: { include: { countries: ["CA"], os: ["ios"] } } }),
  campaign("beta", { priority: 9, targeting: { include: { countries: ["US", "CA"] } } }),
  campaign("gamma", { priority: 5, status: "PAUSED", targeting: { include: { apps: ["game.one"] } } }),
  campaign("delta", { priority: 1, startsAt: at(DAY), targeting: { exclude: { countries: ["CA"] } } }),
  campaign("epsilon", { priority: 5, endsAt: at(-DAY), startsAt: at(-2 * DAY) }),
  campaign("a_b", { priority: 0, targeting: { include: { categories: ["news"], apps: ["game.one"] } } }),
  campaign("axb", { priority: 0, name: "100% fun", targeting: { include: { os: ["harmonyos"] } } }),
];
const ALL_IDS = CATALOG.map((c) => c.id).sort();

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;

async function page(variables: Loose) {
  const res = await gql(PAGE, variables);
  expect(res.errors).toBeUndefined();
  return res.data?.campaignsPage as {
    totalCount: number;
    endCursor: string | null;
    hasNextPage: boolean;
    nodes: Loose[];
  };
}

const ids = async (variables: Loose) => (await page(variables)).nodes.map((n) => n.id);

/** Every page of a query, following endCursor. */
async function walk(variables: Loose): Promise<{ ids: string[]; totals: number[]; pages: number }> {
  const out = { ids: [] as string[], totals: [] as number[], pages: 0 };
  let after: string | undefined;
  for (;;) {
    const p = await page({ ...variables, after });
    out.ids.push(...p.nodes.map((n) => n.id));
    out.totals.push(p.totalCount);
    out.pages++;
    if (!p.hasNextPage) return out;
    after = p.endCursor ?? undefined;
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_PREFIX: uniquePrefix("page"),
      ADMIN_TOKEN,
      VIEWER_TOKEN,
    },
  });
  gql = graphqlClient(server.url);
  const res = await gql(IMPORT, { campaigns: CATALOG });
  expect(res.errors).toBeUndefined();
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("campaignsPage paging", () => {
  it("walks the whole catalog in id order, two at a time, each campaign once, with a constant total", async () => {
    const walked = await walk({ first: 2 });
    expect(walked.ids).toEqual(ALL_IDS);
    expect(walked.pages).toBe(4);
    expect(new Set(walked.totals)).toEqual(new Set([CATALOG.length]));
  });

  it("answers an empty page with a null endCursor after the last campaign", async () => {
    const last = await page({ first: CATALOG.length });
    expect(last.hasNextPage).toBe(false);
    const after = await page({ after: last.endCursor });
    expect(after).toEqual({ totalCount: CATALOG.length, endCursor: null, hasNextPage: false, nodes: [] });
  });

  it("orders by priority (highest first, then id), across pages that split equal priorities", async () => {
    const walked = await walk({ orderBy: "PRIORITY", first: 2 });
    expect(walked.ids).toEqual(["beta", "alpha", "epsilon", "gamma", "delta", "a_b", "axb"]);
  });

  it("orders by last change: a campaign just updated comes first", async () => {
    const res = await gql(`mutation { updateCampaign(id: "delta", input: { priority: 2 }) { version } }`);
    expect(res.errors).toBeUndefined();
    expect((await ids({ orderBy: "UPDATED_AT", first: 1 }))[0]).toBe("delta");
    expect((await walk({ orderBy: "UPDATED_AT", first: 3 })).ids.sort()).toEqual(ALL_IDS);
  });
});

describe("campaignsPage filters", () => {
  it("searches ids and names case-insensitively, with % and _ taken literally", async () => {
    expect(await ids({ filter: { search: "ALP" } })).toEqual(["alpha"]);
    expect(await ids({ filter: { search: "summer sale" } })).toEqual(["alpha"]);
    expect(await ids({ filter: { search: "a_b" } })).toEqual(["a_b"]);
    expect(await ids({ filter: { search: "100%" } })).toEqual(["axb"]);
    expect((await page({ filter: { search: "campaign" }, first: 1 })).totalCount).toBe(5);
  });

  it("filters by status, and by live (ACTIVE and within its flight now) or not", async () => {
    expect(await ids({ filter: { status: "PAUSED" } })).toEqual(["gamma"]);
    expect(await ids({ filter: { live: true } })).toEqual(["a_b", "alpha", "axb", "beta"]);
    expect(await ids({ filter: { live: false } })).toEqual(["delta", "epsilon", "gamma"]);
    expect(await ids({ filter: { live: true, status: "PAUSED" } })).toEqual([]);
  });

  it("finds campaigns whose include rules name a value, normalised like rules; exclude rules do not count", async () => {
    expect(await ids({ filter: { targets: { countries: ["canada"] } } })).toEqual(["alpha", "beta"]);
    expect(await ids({ filter: { targets: { countries: ["ca"], os: ["iOS"] } } })).toEqual(["alpha"]);
    expect(await ids({ filter: { targets: { apps: ["GAME.ONE"], categories: ["news"] } } })).toEqual(["a_b"]);
    expect(await ids({ filter: { targets: { countries: ["DE", "US"] } } })).toEqual(["beta"]);
  });

  it("combines search, filters and order, and pages the combination", async () => {
    const walked = await walk({ filter: { search: "a", live: true }, orderBy: "PRIORITY", first: 1 });
    expect(walked.ids).toEqual(["beta", "alpha", "a_b", "axb"]);
    expect(new Set(walked.totals)).toEqual(new Set([4]));
  });

  it("lists only the given ids", async () => {
    expect(await ids({ filter: { ids: ["beta", "ALPHA", "nope", "not an id!"] } })).toEqual(["alpha", "beta"]);
  });

  it("is open to viewers", async () => {
    const res = await graphqlClient(server.url, VIEWER_TOKEN)(PAGE, { first: 1 });
    expect(res.errors).toBeUndefined();
    expect(res.data?.campaignsPage.totalCount).toBe(CATALOG.length);
  });
});

describe("campaignsPage errors", () => {
  it("names every invalid target value and out-of-range first in one BAD_USER_INPUT", async () => {
    const res = await gql(PAGE, { filter: { targets: { countries: ["US", "Narnia"], os: ["bad os"] } }, first: 0 });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toEqual({
      "filter.targets.countries.1": expect.stringContaining("ISO 3166-1"),
      "filter.targets.os.0": expect.any(String),
      first: "must be 1–500",
    });
  });

  it("prices a page by its first: two pages of 500 with targeting and stats are too much for one operation", async () => {
    const nodes = "nodes { id targeting { include { apps } exclude { apps } } stats { servedLastHour } }";
    const two = (first: number) =>
      `{ a: campaignsPage(first: ${first}) { ${nodes} } b: campaignsPage(first: ${first}, after: "x") { ${nodes} } }`;
    const big = await gql(two(500));
    expect(codes(big)).toEqual(["QUERY_TOO_COMPLEX"]);
    expect(big.data ?? undefined).toBeUndefined();
    expect(codes(await gql(`{ campaignsPage(first: 500) { ${nodes} } }`))).toEqual([]);
  });

  it("refuses a cursor that is not one, or one of another order", async () => {
    const { endCursor } = await page({ first: 1 });
    for (const [after, orderBy] of [
      ["garbage", "ID"],
      [endCursor, "PRIORITY"],
    ]) {
      const res = await gql(PAGE, { after, orderBy });
      expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
      expect(Object.keys(res.errors?.[0]?.extensions?.fields ?? {})).toEqual(["after"]);
    }
  });
});

describe("campaignsPage ordered by SERVED_LAST_HOUR", () => {
  /** Deliveries: beta serves every US request, alpha and beta every CA/iOS one. */
  async function serve(): Promise<void> {
    for (let i = 0; i < 3; i++) expect((await deliver(server.url, "x", "android", "US")).cids).toEqual(["beta"]);
    expect((await deliver(server.url, "x", "ios", "CA")).cids).toContain("alpha");
  }

  async function servedOrder(url: string, variables: Loose = {}) {
    const client = graphqlClient(url);
    const walked: Loose[] = [];
    let after: string | undefined;
    for (;;) {
      const res = await client(PAGE, { orderBy: "SERVED_LAST_HOUR", first: 2, after, ...variables });
      expect(res.errors).toBeUndefined();
      walked.push(...(res.data?.campaignsPage.nodes ?? []));
      if (!res.data?.campaignsPage.hasNextPage) break;
      after = res.data?.campaignsPage.endCursor;
    }
    return walked.map((n) => `${n.id}:${n.stats.servedLastHour}`);
  }

  it("puts the most served first (counts as Campaign.stats shows them), then the rest by id (Redis)", async () => {
    await serve();
    await vi.waitFor(
      async () => {
        expect(await servedOrder(server.url)).toEqual([
          "beta:4",
          "alpha:1",
          "a_b:0",
          "axb:0",
          "delta:0",
          "epsilon:0",
          "gamma:0",
        ]);
      },
      { timeout: 10_000, interval: 250 },
    );
    expect(await servedOrder(server.url, { filter: { targets: { countries: ["CA"] } } })).toEqual([
      "beta:4",
      "alpha:1",
    ]);
  });

  it("orders the same way from the in-process stats store (no REDIS_URL)", async () => {
    const single = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } });
    try {
      for (let i = 0; i < 2; i++) await deliver(single.url, "x", "ios", "CA");
      await vi.waitFor(
        async () => {
          expect((await servedOrder(single.url)).slice(0, 3)).toEqual(["alpha:2", "beta:2", "a_b:0"]);
        },
        { timeout: 10_000, interval: 250 },
      );
    } finally {
      await single.stop();
    }
  });
});

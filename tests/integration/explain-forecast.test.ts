// explainDelivery and forecast over GraphQL on two replicas sharing Redis: explanations agree with what
// /v1/delivery serves, reasons name the rules involved, and a forecast combines both replicas' traffic.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient, type Loose } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startReplicas } from "../helpers/server.ts";

const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version propagated } }`;
const EXPLAIN = `query($app: String!, $os: String!, $country: String!, $ids: [ID!], $first: Int, $after: String) {
  explainDelivery(app: $app, os: $os, country: $country, campaignIds: $ids, first: $first, after: $after) {
    version nextCursor request { app os country categories }
    campaigns { campaign { id status } matched reasons { reason values } }
  } }`;
const FORECAST = `query($targeting: TargetingInput!) {
  forecast(targeting: $targeting) { sampledRequests matchingShare requestsPerHour replicasAnswered overlaps { campaign { id } share } } }`;

const campaign = (id: string, patch: Loose = {}) => ({
  id,
  name: id,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Go",
  ...patch,
});

describe("explanations and forecasts", () => {
  let database: TestDatabase;
  let replicas: RunningServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_PREFIX: uniquePrefix("explain"),
      ADMIN_TOKEN,
      PROPAGATION_TIMEOUT_MS: "5000",
    };
    replicas = await startReplicas(["A", "B"], env);
    const gql = graphqlClient(replicas[0]!.url);
    const imported = await gql(IMPORT, {
      campaigns: [
        campaign("us-ios", { targeting: { include: { countries: ["US"], os: ["ios"] } } }),
        campaign("germany", { targeting: { include: { countries: ["Germany"] } } }),
        campaign("not-spotify", { targeting: { exclude: { apps: ["spotify"] } } }),
        campaign("paused-us", { status: "PAUSED", targeting: { include: { countries: ["US"] } } }),
        campaign("later", { startsAt: "2099-01-01T00:00:00Z" }),
      ],
    });
    expect(imported.data?.importCampaigns.propagated).toBe(true);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await database?.drop();
  });

  it("explains exactly what /v1/delivery serves, normalising the device like delivery does", async () => {
    const gql = graphqlClient(replicas[1]!.url);
    for (const [app, os, country] of [
      ["Spotify ", "IOS", "united states"],
      ["tiktok", "ios", "US"],
      ["spotify", "android", "DE"],
    ] as const) {
      const response = await gql(EXPLAIN, { app, os, country });
      const explanation = response.data?.explainDelivery;
      const served = await deliver(replicas[1]!.url, app, os, country);
      expect(explanation.version).toBe(served.version);
      const matched = explanation.campaigns.filter((c: Loose) => c.matched).map((c: Loose) => c.campaign.id);
      expect(matched.sort()).toEqual([...served.cids].sort());
      expect(explanation.campaigns.map((c: Loose) => c.campaign.id)).toEqual([
        "germany",
        "later",
        "not-spotify",
        "paused-us",
        "us-ios",
      ]);
    }
    const first = (await gql(EXPLAIN, { app: "Spotify ", os: "IOS", country: "united states" })).data?.explainDelivery;
    expect(first.request).toEqual({ app: "spotify", os: "ios", country: "US", categories: [] });
    const reasons = Object.fromEntries(first.campaigns.map((c: Loose) => [c.campaign.id, c.reasons]));
    expect(reasons).toEqual({
      germany: [{ reason: "COUNTRY_NOT_INCLUDED", values: ["DE"] }],
      later: [{ reason: "NOT_STARTED", values: ["2099-01-01T00:00:00.000Z"] }],
      "not-spotify": [{ reason: "APP_EXCLUDED", values: ["spotify"] }],
      "paused-us": [{ reason: "PAUSED", values: [] }],
      "us-ios": [],
    });
  });

  it("pages through every campaign, or explains the ones asked for", async () => {
    const gql = graphqlClient(replicas[0]!.url);
    const page1 = (await gql(EXPLAIN, { app: "a", os: "ios", country: "US", first: 2 })).data?.explainDelivery;
    expect(page1.campaigns.map((c: Loose) => c.campaign.id)).toEqual(["germany", "later"]);
    expect(page1.nextCursor).toBe("later");
    const page2 = (await gql(EXPLAIN, { app: "a", os: "ios", country: "US", first: 10, after: page1.nextCursor })).data
      ?.explainDelivery;
    expect(page2.campaigns.map((c: Loose) => c.campaign.id)).toEqual(["not-spotify", "paused-us", "us-ios"]);
    expect(page2.nextCursor).toBeNull();
    const some = (await gql(EXPLAIN, { app: "a", os: "ios", country: "US", ids: ["us-ios", "nope"] })).data
      ?.explainDelivery;
    expect(some.campaigns.map((c: Loose) => [c.campaign.id, c.matched])).toEqual([["us-ios", true]]);
  });

  it("refuses a device delivery would refuse, naming the field", async () => {
    const response = await graphqlClient(replicas[0]!.url)(EXPLAIN, { app: "a", os: "ios", country: "Atlantis" });
    expect(codes(response)).toEqual(["BAD_USER_INPUT"]);
    expect(response.errors?.[0]?.extensions?.fields).toEqual({ country: "invalid" });
  });

  it("forecasts from both replicas' traffic", async () => {
    // Traffic: 3 of every 4 requests from the US, split over both replicas.
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 400; i++) {
      sends.push(deliver(replicas[i % 2]!.url, `app${i}`, i % 2 ? "ios" : "android", i % 4 === 0 ? "DE" : "US"));
    }
    await Promise.all(sends);
    const gql = graphqlClient(replicas[0]!.url);
    const response = await gql(FORECAST, { targeting: { include: { countries: ["us"] } } });
    const forecast = response.data?.forecast;
    console.log(`forecast over two replicas: ${JSON.stringify(forecast)}`);
    expect(forecast.replicasAnswered).toBe(2);
    expect(forecast.sampledRequests).toBeGreaterThanOrEqual(400);
    // Every request is sampled (fewer than a window's slots): the share is exact.
    expect(forecast.matchingShare).toBeCloseTo(0.75, 1);
    expect(forecast.requestsPerHour).toBeGreaterThan(0);
    expect(forecast.overlaps.map((o: Loose) => o.campaign.id)).toContain("not-spotify");
    const invalid = await gql(FORECAST, { targeting: { include: { countries: ["Atlantis"] } } });
    expect(codes(invalid)).toEqual(["BAD_USER_INPUT"]);
  });

  it("samples the requests answered from the device cache too (same body again: no new parse)", async () => {
    const gql = graphqlClient(replicas[0]!.url);
    const before = (await gql(FORECAST, { targeting: { include: { countries: ["de"] } } })).data?.forecast;
    const repeats = 300;
    const body = JSON.stringify({ app: "com.repeat.app", os: "ios", country: "DE" });
    for (let i = 0; i < repeats; i += 50) {
      const batch = Array.from({ length: 50 }, () =>
        fetch(`${replicas[0]!.url}/v1/delivery`, { method: "POST", body }).then((res) => res.arrayBuffer()),
      );
      await Promise.all(batch);
    }
    const after = (await gql(FORECAST, { targeting: { include: { countries: ["de"] } } })).data?.forecast;
    expect(after.sampledRequests).toBe(before.sampledRequests + repeats);
    // Every request is still sampled (fewer than a window's slots), so the share moves exactly.
    const germanBefore = Math.round(before.matchingShare * before.sampledRequests);
    expect(after.matchingShare).toBeCloseTo((germanBefore + repeats) / after.sampledRequests, 2);
  });
});

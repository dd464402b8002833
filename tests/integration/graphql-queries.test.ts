// The read-only views of a replica: delivery (same answer as /v1/delivery), indexStatus, and the
// change log through ruleChanges.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;
let viewer: ReturnType<typeof graphqlClient>;

const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version } }`;
const campaign = (id: string, priority: number, targeting: Record<string, unknown>) => ({
  id,
  name: id,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: `Open ${id}`,
  priority,
  targeting,
});

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({
    env: { DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN, REPLICA_ID: "replica-q" },
  });
  gql = graphqlClient(server.url);
  viewer = graphqlClient(server.url, VIEWER_TOKEN);
  await gql(CREATE, { input: campaign("low", 1, { include: { countries: ["US"] } }) });
  await gql(CREATE, { input: campaign("high", 9, { include: { countries: ["US"], os: ["ios"] } }) });
  await gql(`mutation { upsertCategory(input: { id: "news", name: "News", apps: ["nyt"] }) { version } }`);
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

/** The database's latest version (other tests in this file add versions of their own). */
const latest = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

/** Waits until this replica's index serves the database's latest version; returns that version. */
async function indexCaughtUp(): Promise<number> {
  const version = await latest();
  await expect
    .poll(async () => (await viewer(`{ indexStatus { version } }`)).data?.indexStatus.version, {
      timeout: 10_000,
      message: `the index reaches version ${version}`,
    })
    .toBe(version);
  return version;
}

/** Changes made by the ruleChanges tests target Japan only: they never match the delivery tests' devices. */
const elsewhere = { include: { countries: ["JP"] } };

describe("delivery query", () => {
  it("answers exactly what /v1/delivery answers, with the index version", async () => {
    const version = await indexCaughtUp();
    const res = await viewer(
      `{ delivery(app: "NYT", os: "iOS", country: "united states") { version ads { cid img cta } } }`,
    );
    const http = await fetch(`${server.url}/v1/delivery?app=NYT&os=iOS&country=united%20states`);
    expect(res.data?.delivery).toEqual({
      version: Number(http.headers.get("x-index-version")),
      ads: await http.json(),
    });
    expect(res.data?.delivery.ads.map((a: { cid: string }) => a.cid)).toEqual(["high", "low"]);
    expect(res.data?.delivery.version).toBe(version);
  });

  it("answers an empty list when nothing matches", async () => {
    const version = await indexCaughtUp();
    const res = await viewer(`{ delivery(app: "nyt", os: "android", country: "FR") { version ads { cid } } }`);
    expect(res.data?.delivery).toEqual({ version, ads: [] });
  });

  it("reports every missing or invalid device field as BAD_USER_INPUT", async () => {
    const res = await viewer(`{ delivery(app: " ", os: "bad os!", country: "Narnia") { version } }`);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toEqual({ app: "missing", os: "invalid", country: "invalid" });
  });
});

describe("indexStatus query", () => {
  it("shows this replica's index version, campaign count and build time", async () => {
    const version = await indexCaughtUp();
    const [{ n: campaigns } = { n: -1 }] = await database.sql<{ n: number }>("SELECT count(*)::int AS n FROM campaign");
    expect(campaigns).toBeGreaterThanOrEqual(2); // at least the two made before all tests
    const res = await viewer(`{ indexStatus { version campaigns builtAt replicas { id version seenAt } } }`);
    const status = res.data?.indexStatus;
    expect(status).toMatchObject({ version, campaigns, replicas: [{ id: "replica-q", version }] });
    expect(Date.parse(status.builtAt)).toBeLessThanOrEqual(Date.now());
    expect(Math.abs(Date.parse(status.replicas[0].seenAt) - Date.now())).toBeLessThan(5_000);
  });
});

describe("ruleChanges query", () => {
  it("lists one change per item after a version, ordered by version, with the commit time", async () => {
    const before = await latest();
    await gql(CREATE, { input: campaign("rc-low", 1, elsewhere) });
    await gql(CREATE, { input: campaign("rc-high", 9, elsewhere) });
    await gql(`mutation { upsertCategory(input: { id: "rc-news", name: "News", apps: ["rc-app"] }) { version } }`);
    const res = await viewer(`{ ruleChanges(sinceVersion: ${before}) { version kind campaignId categoryId at } }`);
    const changes = res.data?.ruleChanges;
    expect(changes.map(({ at: _, ...rest }: { at: string }) => rest)).toEqual([
      { version: before + 1, kind: "CAMPAIGN_CREATED", campaignId: "rc-low", categoryId: null },
      { version: before + 2, kind: "CAMPAIGN_CREATED", campaignId: "rc-high", categoryId: null },
      { version: before + 3, kind: "CATEGORY_UPSERTED", campaignId: null, categoryId: "rc-news" },
    ]);
    const [row] = await database.sql<{ at: Date }>("SELECT at FROM change_log WHERE version = $1", [before + 2]);
    expect(changes[1].at).toBe(row?.at.toISOString());
  });

  it("lists the changes made before all tests from version 0, in order", async () => {
    const res = await viewer(`{ ruleChanges(sinceVersion: 0) { version kind campaignId categoryId } }`);
    const changes = res.data?.ruleChanges;
    expect(changes.slice(0, 3)).toEqual([
      { version: 1, kind: "CAMPAIGN_CREATED", campaignId: "low", categoryId: null },
      { version: 2, kind: "CAMPAIGN_CREATED", campaignId: "high", categoryId: null },
      { version: 3, kind: "CATEGORY_UPSERTED", campaignId: null, categoryId: "news" },
    ]);
    const [{ n } = { n: -1 }] = await database.sql<{ n: number }>("SELECT count(*)::int AS n FROM change_log_item");
    expect(changes).toHaveLength(n);
  });

  it("pages with sinceVersion and first, and shows deletions and SQL edits too", async () => {
    const before = await latest();
    await gql(CREATE, { input: campaign("pg-low", 1, elsewhere) });
    await gql(CREATE, { input: campaign("pg-high", 9, elsewhere) });
    await gql(`mutation { upsertCategory(input: { id: "pg-news", name: "News", apps: ["pg-app"] }) { version } }`);
    await gql(`mutation { deleteCampaign(id: "pg-low") { version } }`);
    await database.sql("UPDATE campaign SET priority = 5 WHERE id = 'pg-high'");
    const page = await viewer(`{ ruleChanges(sinceVersion: ${before + 1}, first: 2) { version kind } }`);
    expect(page.data?.ruleChanges).toEqual([
      { version: before + 2, kind: "CAMPAIGN_CREATED" },
      { version: before + 3, kind: "CATEGORY_UPSERTED" },
    ]);
    const rest = await viewer(`{ ruleChanges(sinceVersion: ${before + 3}) { version kind campaignId } }`);
    expect(rest.data?.ruleChanges).toEqual([
      { version: before + 4, kind: "CAMPAIGN_DELETED", campaignId: "pg-low" },
      { version: before + 5, kind: "CAMPAIGN_UPDATED", campaignId: "pg-high" },
    ]);
  });

  it("refuses first above 500 and a negative sinceVersion, naming both", async () => {
    const res = await viewer(`{ ruleChanges(sinceVersion: -1, first: 501) { version } }`);
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(Object.keys(res.errors?.[0]?.extensions?.fields ?? {}).sort()).toEqual(["first", "sinceVersion"]);
  });
});

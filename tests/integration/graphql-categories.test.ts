// Category queries and mutations over real HTTP: app sets replaced whole, Category.campaigns, deletion
// taking the rules that name the category, and delivery changing on the very next request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;

const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

const UPSERT = `mutation($input: CategoryInput!) {
  upsertCategory(input: $input) { version propagated category { id name apps campaigns { id } } } }`;
const DELETE = `mutation($id: ID!) { deleteCategory(id: $id) { version propagated category { id } } }`;
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version } }`;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN } });
  gql = graphqlClient(server.url);
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("upsertCategory", () => {
  it("creates a category with normalised, de-duplicated apps as one version", async () => {
    const before = await latestVersion();
    const res = await gql(UPSERT, {
      input: { id: " Music ", name: "Music", apps: ["Com.Spotify", "com.spotify ", "deezer"] },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data?.upsertCategory).toEqual({
      version: before + 1,
      propagated: true,
      category: { id: "music", name: "Music", apps: ["com.spotify", "deezer"], campaigns: [] },
    });
    expect(await latestVersion()).toBe(before + 1);
  });

  it("changes delivery on the very next request when the app set changes", async () => {
    const created = await gql(CREATE, {
      input: {
        id: "music-ads",
        name: "Music ads",
        imageUrl: "https://cdn.example/m.png",
        cta: "Listen",
        targeting: { include: { categories: ["music"] } },
      },
    });
    expect(created.errors).toBeUndefined();
    expect((await deliver(server.url, "com.spotify", "ios", "US")).cids).toEqual(["music-ads"]);
    expect((await deliver(server.url, "tidal", "ios", "US")).status).toBe(204);

    const res = await gql(UPSERT, { input: { id: "music", name: "Music & audio", apps: ["tidal"] } });
    const version = res.data?.upsertCategory.version;
    expect(res.data?.upsertCategory.category).toEqual({
      id: "music",
      name: "Music & audio",
      apps: ["tidal"],
      campaigns: [{ id: "music-ads" }],
    });
    expect(await deliver(server.url, "tidal", "ios", "US")).toEqual({ status: 200, version, cids: ["music-ads"] });
    expect(await deliver(server.url, "com.spotify", "ios", "US")).toEqual({ status: 204, version, cids: [] });
  });

  it("allocates a version even when nothing changes (the row is always written)", async () => {
    const before = await latestVersion();
    const res = await gql(UPSERT, { input: { id: "music", name: "Music & audio", apps: ["tidal"] } });
    expect(res.data?.upsertCategory.version).toBe(before + 1);
  });

  it("a category updated directly in SQL gets a version too (touch-trigger regression)", async () => {
    const before = await latestVersion();
    await database.sql("UPDATE category SET name = 'Music (SQL)' WHERE id = 'music'");
    expect(await latestVersion()).toBe(before + 1);
    await gql(UPSERT, { input: { id: "music", name: "Music & audio", apps: ["tidal"] } });
  });

  it("reports every bad field at once, writing nothing", async () => {
    const before = await latestVersion();
    const res = await gql(UPSERT, { input: { id: "Bad Id!", name: "", apps: ["ok", "not ok", ""] } });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(Object.keys(res.errors?.[0]?.extensions?.fields ?? {}).sort()).toEqual(
      ["input.apps.1", "input.apps.2", "input.id", "input.name"].sort(),
    );
    expect(await latestVersion()).toBe(before);
  });
});

describe("category queries", () => {
  it("lists categories with their apps and the campaigns whose include or exclude rules name them", async () => {
    await gql(UPSERT, { input: { id: "games", name: "Games", apps: ["com.chess"] } });
    await gql(CREATE, {
      input: {
        id: "no-games",
        name: "Not for gamers",
        imageUrl: "https://cdn.example/n.png",
        cta: "Read",
        targeting: { include: { categories: ["music"] }, exclude: { categories: ["games"] } },
      },
    });
    const res = await graphqlClient(
      server.url,
      VIEWER_TOKEN,
    )(
      `{ categories { id apps campaigns { id } } one: category(id: "GAMES") { id name } none: category(id: "nope") { id } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      categories: [
        { id: "games", apps: ["com.chess"], campaigns: [{ id: "no-games" }] },
        { id: "music", apps: ["tidal"], campaigns: [{ id: "music-ads" }, { id: "no-games" }] },
      ],
      one: { id: "games", name: "Games" },
      none: null,
    });
  });
});

describe("deleteCategory", () => {
  it("deletes the category and the rules naming it in one version; those campaigns get a new revision", async () => {
    const revisionOf = async (id: string) =>
      (await database.sql<{ revision: number }>("SELECT revision FROM campaign WHERE id = $1", [id]))[0]?.revision;
    const revisionBefore = (await revisionOf("no-games")) ?? 0;
    const before = await latestVersion();
    const res = await gql(DELETE, { id: "games" });
    expect(res.data?.deleteCategory).toEqual({ version: before + 1, propagated: true, category: null });
    expect(await latestVersion()).toBe(before + 1);
    const rules = await database.sql("SELECT * FROM targeting_rule WHERE dimension = 'CATEGORY' AND value = 'games'");
    expect(rules).toEqual([]);
    expect(await revisionOf("no-games")).toBe(revisionBefore + 1);
    const items = await database.sql(
      "SELECT kind, campaign_id, category_id FROM change_log_item WHERE version = $1 ORDER BY id",
      [before + 1],
    );
    expect(items).toEqual(
      expect.arrayContaining([
        { kind: "CATEGORY_DELETED", campaign_id: null, category_id: "games" },
        { kind: "CAMPAIGN_UPDATED", campaign_id: "no-games", category_id: null },
      ]),
    );
    const campaign = await gql(
      `{ campaign(id: "no-games") { targeting { include { categories } exclude { categories } } } }`,
    );
    expect(campaign.data?.campaign.targeting).toEqual({
      include: { categories: ["music"] },
      exclude: { categories: [] },
    });
  });

  it("deletion of a category changes delivery on the very next request", async () => {
    const before = await deliver(server.url, "tidal", "ios", "US");
    expect(before.cids).toEqual(["music-ads", "no-games"]);
    const res = await gql(DELETE, { id: "music" });
    const version = res.data?.deleteCategory.version;
    // Rules naming "music" are gone, so both campaigns now have no rules at all: they match everything.
    expect(await deliver(server.url, "some.other.app", "ios", "US")).toEqual({
      status: 200,
      version,
      cids: ["music-ads", "no-games"],
    });
  });

  it("answers NOT_FOUND for an unknown category, writing nothing", async () => {
    const before = await latestVersion();
    expect(codes(await gql(DELETE, { id: "games" }))).toEqual(["NOT_FOUND"]);
    expect(await latestVersion()).toBe(before);
  });
});

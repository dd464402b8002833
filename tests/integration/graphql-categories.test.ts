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

/** A campaign of a test's own, made through the API. */
const createCampaign = async (id: string, targeting: Record<string, unknown>) => {
  const res = await gql(CREATE, {
    input: { id, name: id, imageUrl: `https://cdn.example/${id}.png`, cta: "Open", targeting },
  });
  expect(res.errors).toBeUndefined();
  return res;
};
const upsertCategory = async (id: string, name: string, apps: string[]) => {
  const res = await gql(UPSERT, { input: { id, name, apps } });
  expect(res.errors).toBeUndefined();
  return res;
};

// Every test uses categories, campaigns and apps of its own, so no test sees another's in delivery.
describe("upsertCategory", () => {
  it("takes a long app list (coerced in slices) normalised and de-duplicated; a mistyped app gets graphql-js's error", async () => {
    const apps = Array.from({ length: 1_500 }, (_, i) => `Com.Long.App${i % 1_200}`);
    const res = await gql(UPSERT, { input: { id: "long-list", name: "Long", apps } });
    expect(res.errors).toBeUndefined();
    const stored = res.data?.upsertCategory.category.apps as string[];
    expect(stored).toHaveLength(1_200);
    expect(stored).toContain("com.long.app1199");
    await createCampaign("long-list-ad", { include: { categories: ["long-list"] } });
    expect((await deliver(server.url, "com.long.app777", "ios", "US")).cids).toContain("long-list-ad");

    const mistyped: unknown[] = [...apps];
    mistyped[1_234] = 7;
    const bad = await gql(UPSERT, { input: { id: "long-list", name: "Renamed", apps: mistyped } });
    expect(bad.errors?.[0]?.message).toMatch(
      /^Variable "\$input" got invalid value 7 at "input\.apps\[1234\]"; String cannot represent a non string value/,
    );
    const names = await database.sql<{ name: string }>("SELECT name FROM category WHERE id = 'long-list'");
    expect(names).toEqual([{ name: "Long" }]);
  });

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
    await upsertCategory("radio", "Radio", ["com.radio"]);
    await createCampaign("radio-ads", { include: { categories: ["radio"] } });
    expect((await deliver(server.url, "com.radio", "ios", "US")).cids).toEqual(["radio-ads"]);
    expect((await deliver(server.url, "radio.tidal", "ios", "US")).status).toBe(204);

    const res = await gql(UPSERT, { input: { id: "radio", name: "Radio & audio", apps: ["radio.tidal"] } });
    const version = res.data?.upsertCategory.version;
    expect(res.data?.upsertCategory.category).toEqual({
      id: "radio",
      name: "Radio & audio",
      apps: ["radio.tidal"],
      campaigns: [{ id: "radio-ads" }],
    });
    expect(await deliver(server.url, "radio.tidal", "ios", "US")).toEqual({
      status: 200,
      version,
      cids: ["radio-ads"],
    });
    expect(await deliver(server.url, "com.radio", "ios", "US")).toEqual({ status: 204, version, cids: [] });
  });

  it("a re-sent app set writes only the apps that changed: dropped ones deleted, new ones added, the rest untouched", async () => {
    // More apps than one page of the stored set is read in, so the read pages too.
    const apps = Array.from({ length: 6_000 }, (_, i) => `resent.app${String(i).padStart(5, "0")}`);
    await upsertCategory("resent", "Resent", apps);
    await createCampaign("resent-ads", { include: { categories: ["resent"] } });
    const rowVersions = async () =>
      new Map(
        (
          await database.sql<{ app: string; xmin: string }>(
            "SELECT app, xmin::text AS xmin FROM category_app WHERE category_id = 'resent'",
          )
        ).map((row) => [row.app, row.xmin]),
      );
    const before = await rowVersions();
    const next = [...apps.slice(1_000), "resent.new1", "resent.new2"];
    const res = await upsertCategory("resent", "Resent again", next);
    const version = res.data?.upsertCategory.version;

    const after = await rowVersions();
    expect([...after.keys()].sort()).toEqual([...next].sort());
    // The 5,000 kept apps are the very rows written the first time (same inserting transaction).
    expect(apps.slice(1_000).every((app) => after.get(app) === before.get(app))).toBe(true);
    expect(after.get("resent.new1")).not.toBe(before.get(apps[1_000] as string));
    expect(await deliver(server.url, "resent.app00999", "ios", "US")).toEqual({ status: 204, version, cids: [] });
    expect((await deliver(server.url, "resent.new2", "ios", "US")).cids).toEqual(["resent-ads"]);
    expect((await deliver(server.url, "resent.app05999", "ios", "US")).cids).toEqual(["resent-ads"]);
  });

  it("allocates a version even when nothing changes (the row is always written)", async () => {
    await upsertCategory("same", "Same & audio", ["same.tidal"]);
    const before = await latestVersion();
    const res = await gql(UPSERT, { input: { id: "same", name: "Same & audio", apps: ["same.tidal"] } });
    expect(res.data?.upsertCategory.version).toBe(before + 1);
  });

  it("a category updated directly in SQL gets a version too (touch-trigger regression)", async () => {
    await upsertCategory("sqlcat", "Sql & audio", ["sql.tidal"]);
    const before = await latestVersion();
    await database.sql("UPDATE category SET name = 'Sql (SQL)' WHERE id = 'sqlcat'");
    expect(await latestVersion()).toBe(before + 1);
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
    await upsertCategory("jazz", "Jazz", ["jazz.tidal"]);
    await createCampaign("jazz-ads", { include: { categories: ["jazz"] } });
    await gql(UPSERT, { input: { id: "games", name: "Games", apps: ["com.chess"] } });
    await gql(CREATE, {
      input: {
        id: "no-games",
        name: "Not for gamers",
        imageUrl: "https://cdn.example/n.png",
        cta: "Read",
        targeting: { include: { categories: ["jazz"] }, exclude: { categories: ["games"] } },
      },
    });
    const res = await graphqlClient(
      server.url,
      VIEWER_TOKEN,
    )(
      `{ categories { id apps campaigns { id } } one: category(id: "GAMES") { id name } none: category(id: "nope") { id } }`,
    );
    expect(res.errors).toBeUndefined();
    // Other tests' categories are listed too: this test checks its own two, in the list's order.
    const mine = res.data?.categories.filter((c: { id: string }) => ["games", "jazz"].includes(c.id));
    expect({ ...res.data, categories: mine }).toEqual({
      categories: [
        { id: "games", apps: ["com.chess"], campaigns: [{ id: "no-games" }] },
        { id: "jazz", apps: ["jazz.tidal"], campaigns: [{ id: "jazz-ads" }, { id: "no-games" }] },
      ],
      one: { id: "games", name: "Games" },
      none: null,
    });
    const ids = res.data?.categories.map((c: { id: string }) => c.id);
    expect(ids).toEqual([...ids].sort());
  });
});

describe("deleteCategory", () => {
  it("deletes the category and the rules naming it in one version; those campaigns get a new revision", async () => {
    await upsertCategory("chill", "Chill", ["chill.tidal"]);
    await upsertCategory("board", "Board games", ["com.board"]);
    await createCampaign("no-board", { include: { categories: ["chill"] }, exclude: { categories: ["board"] } });
    const revisionOf = async (id: string) =>
      (await database.sql<{ revision: number }>("SELECT revision FROM campaign WHERE id = $1", [id]))[0]?.revision;
    const revisionBefore = await revisionOf("no-board");
    expect(revisionBefore).toBeTypeOf("number");
    const before = await latestVersion();
    const res = await gql(DELETE, { id: "board" });
    expect(res.data?.deleteCategory).toEqual({ version: before + 1, propagated: true, category: null });
    expect(await latestVersion()).toBe(before + 1);
    const rules = await database.sql("SELECT * FROM targeting_rule WHERE dimension = 'CATEGORY' AND value = 'board'");
    expect(rules).toEqual([]);
    expect(await revisionOf("no-board")).toBe((revisionBefore ?? 0) + 1);
    const items = await database.sql(
      "SELECT kind, campaign_id, category_id FROM change_log_item WHERE version = $1 ORDER BY id",
      [before + 1],
    );
    expect(items).toEqual(
      expect.arrayContaining([
        { kind: "CATEGORY_DELETED", campaign_id: null, category_id: "board" },
        { kind: "CAMPAIGN_UPDATED", campaign_id: "no-board", category_id: null },
      ]),
    );
    const campaign = await gql(
      `{ campaign(id: "no-board") { targeting { include { categories } exclude { categories } } } }`,
    );
    expect(campaign.data?.campaign.targeting).toEqual({
      include: { categories: ["chill"] },
      exclude: { categories: [] },
    });
  });

  it("deletion of a category changes delivery on the very next request", async () => {
    await upsertCategory("tunes", "Tunes", ["tunes.tidal"]);
    await createCampaign("tunes-ads", { include: { categories: ["tunes"] } });
    await createCampaign("tunes-too", { include: { categories: ["tunes"] } });
    try {
      const before = await deliver(server.url, "tunes.tidal", "ios", "US");
      expect(before.cids).toEqual(["tunes-ads", "tunes-too"]);
      expect((await deliver(server.url, "some.other.app", "ios", "US")).status).toBe(204);
      const res = await gql(DELETE, { id: "tunes" });
      const version = res.data?.deleteCategory.version;
      // Rules naming "tunes" are gone, so both campaigns now have no rules at all: they match everything.
      expect(await deliver(server.url, "some.other.app", "ios", "US")).toEqual({
        status: 200,
        version,
        cids: ["tunes-ads", "tunes-too"],
      });
    } finally {
      // Campaigns that match everything would be served to every other test's devices: gone with this test.
      for (const id of ["tunes-ads", "tunes-too"]) await gql(`mutation { deleteCampaign(id: "${id}") { version } }`);
    }
  });

  it("answers NOT_FOUND for an unknown category, writing nothing", async () => {
    await upsertCategory("gone", "Gone", ["gone.app"]);
    expect((await gql(DELETE, { id: "gone" })).errors).toBeUndefined();
    const before = await latestVersion();
    expect(codes(await gql(DELETE, { id: "gone" }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(DELETE, { id: "never-made" }))).toEqual(["NOT_FOUND"]);
    expect(await latestVersion()).toBe(before);
  });
});

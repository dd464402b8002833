// TRUNCATE in SQL is versioned like any other change (BEFORE TRUNCATE triggers write the change log), so
// running replicas converge to exactly what a freshly started replica loads: same X-Index-Version, same
// answers. So do bulk SQL edits, which running replicas read from the log in pages.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type ChildServer, startServerProcess } from "../helpers/server.ts";

let database: TestDatabase;
let running: ChildServer[] = [];

const DEVICES = [
  ["candycrush", "ios", "US"],
  ["candycrush", "android", "DE"],
  ["spotify", "ios", "US"],
  ["chess", "web", "FR"],
  ["unknown", "ios", "CA"],
] as const;

const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

async function answers(server: ChildServer) {
  return Promise.all(DEVICES.map(([app, os, country]) => deliver(server.url, app, os, country)));
}

/** Every running replica reaches the latest version and answers exactly like a replica started now. */
async function expectRunningEqualFresh(what: string) {
  const version = await latestVersion();
  for (const server of running) {
    await expect
      .poll(async () => (await deliver(server.url, "x", "ios", "US")).version, {
        message: `${what}: a running replica reaches version ${version}`,
        timeout: 5_000,
      })
      .toBe(version);
  }
  const fresh = await startServerProcess({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } });
  try {
    const expected = await answers(fresh);
    expect(
      expected.every((a) => a.version === version),
      `${what}: the fresh replica loads version ${version}`,
    ).toBe(true);
    for (const server of running) expect(await answers(server), what).toEqual(expected);
    return expected;
  } finally {
    await fresh.stop();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  running = await Promise.all([
    startServerProcess({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } }),
    startServerProcess({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } }),
  ]);
});

/**
 * The catalog a test truncates, whatever an earlier test left: everything deleted (row by row, not by
 * the TRUNCATE under test), then two categories and three campaigns created, every running replica
 * serving them.
 */
async function seed() {
  await database.sql("DELETE FROM campaign");
  await database.sql("DELETE FROM category");
  const gql = graphqlClient(running[0]!.url);
  const seeded = await gql(`mutation {
    games: upsertCategory(input: { id: "games", name: "Games", apps: ["candycrush", "chess"] }) { version }
    music: upsertCategory(input: { id: "music", name: "Music", apps: ["spotify"] }) { version }
    a: createCampaign(input: { id: "gamers", name: "G", imageUrl: "https://x.example/g.png", cta: "Go",
      targeting: { include: { categories: ["games"] } } }) { version }
    b: createCampaign(input: { id: "no-music", name: "N", imageUrl: "https://x.example/n.png", cta: "Go",
      targeting: { exclude: { categories: ["music"] }, include: { os: ["ios"] } } }) { version }
    c: createCampaign(input: { id: "everyone", name: "E", imageUrl: "https://x.example/e.png", cta: "Go" }) { version }
  }`);
  expect(seeded.errors).toBeUndefined();
  const version = await latestVersion();
  for (const server of running) {
    await expect
      .poll(async () => (await deliver(server.url, "x", "ios", "US")).version, {
        message: `a running replica serves the seeded catalog (version ${version})`,
        timeout: 5_000,
      })
      .toBe(version);
  }
}

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await database?.drop();
});

describe("TRUNCATE in SQL", () => {
  it("of category_app: versioned, running replicas drop the category rules' apps like a fresh one", async () => {
    await seed();
    const before = await answers(running[0]!);
    expect(before[0]?.cids).toEqual(["everyone", "gamers", "no-music"]);
    const version = await latestVersion();
    await database.sql("TRUNCATE category_app");
    expect(await latestVersion()).toBe(version + 1);
    const items = await database.sql("SELECT kind, category_id FROM change_log_item WHERE version = $1 ORDER BY 2", [
      version + 1,
    ]);
    expect(items).toEqual([
      { kind: "CATEGORY_UPSERTED", category_id: "games" },
      { kind: "CATEGORY_UPSERTED", category_id: "music" },
    ]);
    const after = await expectRunningEqualFresh("TRUNCATE category_app");
    expect(after[0]?.cids).toEqual(["everyone", "no-music"]);
  });

  it("of an empty table writes no version", async () => {
    await database.sql("DELETE FROM category_app");
    expect(await database.sql("SELECT count(*)::int AS n FROM category_app")).toEqual([{ n: 0 }]);
    const version = await latestVersion();
    await database.sql("TRUNCATE category_app");
    expect(await latestVersion()).toBe(version);
  });

  it("of targeting_rule, then of campaign and category together (CASCADE): one version each", async () => {
    await seed();
    const before = await answers(running[0]!);
    expect(before[3]?.cids).toEqual(["everyone", "gamers"]);
    let version = await latestVersion();
    await database.sql("TRUNCATE targeting_rule");
    expect(await latestVersion()).toBe(++version);
    const afterRules = await expectRunningEqualFresh("TRUNCATE targeting_rule");
    expect(afterRules[3]?.cids).toEqual(["everyone", "gamers", "no-music"]);

    await database.sql("TRUNCATE campaign, category CASCADE");
    expect(await latestVersion()).toBe(++version);
    const kinds = await database.sql<{ kind: string; n: number }>(
      "SELECT kind::text, count(*)::int AS n FROM change_log_item WHERE version = $1 GROUP BY 1 ORDER BY 1",
      [version],
    );
    expect(kinds).toEqual([
      { kind: "CAMPAIGN_DELETED", n: 3 },
      { kind: "CATEGORY_DELETED", n: 2 },
    ]);
    const empty = await expectRunningEqualFresh("TRUNCATE campaign, category CASCADE");
    expect(empty.every((a) => a.status === 204)).toBe(true);
  });
});

describe("a bulk edit in SQL", () => {
  // More changed campaigns than one statement reads (SMALL_DELTA_ITEMS, 500): running replicas read
  // the change in pages of ids, and must still end up exactly where a fresh replica's full load does.
  it("of 700 campaigns (created, then some paused, retargeted or deleted): running replicas equal a fresh one", async () => {
    await seed();
    await database.sql(`
      WITH made AS (
        INSERT INTO campaign (id, name, image_url, cta, priority)
        SELECT 'sql-' || lpad(i::text, 4, '0'), 'SQL ' || i, 'https://x.example/' || i || '.png', 'Go', i % 7
        FROM generate_series(1, 700) i RETURNING id, priority)
      INSERT INTO targeting_rule (campaign_id, dimension, mode, value)
      SELECT id, 'COUNTRY', 'INCLUDE', CASE WHEN priority % 2 = 0 THEN 'US' ELSE 'FR' END FROM made`);
    const created = await expectRunningEqualFresh("700 campaigns created in SQL");
    const fromSql = (answer: (typeof created)[number] | undefined) =>
      (answer?.cids ?? []).filter((id) => id.startsWith("sql-"));
    expect(fromSql(created[0])).toHaveLength(400); // US: the even priorities
    expect(fromSql(created[3])).toHaveLength(300); // FR
    expect(fromSql(created[4])).toEqual([]); // CA

    await database.sql(`BEGIN;
      UPDATE campaign SET status = 'PAUSED' WHERE id BETWEEN 'sql-0001' AND 'sql-0300';
      UPDATE targeting_rule SET value = 'CA' WHERE campaign_id BETWEEN 'sql-0301' AND 'sql-0600';
      DELETE FROM campaign WHERE id > 'sql-0600';
      COMMIT`);
    const edited = await expectRunningEqualFresh("700 campaigns paused, retargeted or deleted in SQL");
    expect(fromSql(edited[4])).toHaveLength(300); // CA: 301–600
    expect(fromSql(edited[0])).toEqual([]);
    expect(fromSql(edited[3])).toEqual([]);
  });
});

// Who changed what (issue 16), against two replica processes sharing Postgres and Redis: every version
// records its actor (the key's name; sql:<user> for SQL) and reason, subscriptions carry them; campaign
// and category history holds every revision with the whole state, across create, update, import, SQL
// edits, delete and TRUNCATE; revertCampaign restores a state exactly (delivery on every replica too),
// deleted campaigns included; retention prunes old revisions in batches, one replica at a time.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { pruneHistory } from "../../src/store/history-retention.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient, type Loose, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startReplicas } from "../helpers/server.ts";
import { subscribeSse, subscribeWs } from "../helpers/subscribe.ts";

let database: TestDatabase;
let A: RunningServer;
let B: RunningServer;
let sqlUser: string;

const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

const TARGETING = `targeting { include { apps countries os categories } exclude { apps countries os categories } }`;
const STATE = `id name imageUrl cta status priority startsAt endsAt ${TARGETING}`;
const REVISION = `revision version actor reason at deleted campaign { ${STATE} }`;
const CHANGE = `version propagated campaign { revision ${STATE} }`;
const CREATE = `mutation($input: CreateCampaignInput!, $reason: String) { createCampaign(input: $input, reason: $reason) { ${CHANGE} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!, $reason: String) {
  updateCampaign(id: $id, input: $input, reason: $reason) { ${CHANGE} } }`;
const DELETE = `mutation($id: ID!, $reason: String) { deleteCampaign(id: $id, reason: $reason) { version } }`;
const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!, $reason: String) {
  importCampaigns(campaigns: $campaigns, reason: $reason) { version } }`;
const REVERT = `mutation($id: ID!, $to: Int!, $expected: Int, $reason: String) {
  revertCampaign(id: $id, toRevision: $to, expectedRevision: $expected, reason: $reason) { ${CHANGE} } }`;
const HISTORY = `query($id: ID!, $first: Int, $after: String) { campaignHistory(id: $id, first: $first, after: $after) { ${REVISION} } }`;
const CHANGES = `query($since: Int!) { ruleChanges(sinceVersion: $since) { version kind campaignId categoryId actor reason } }`;

const campaign = (id: string, extra: Loose = {}) => ({
  id,
  name: id,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Go",
  ...extra,
});

/** One mutation; fails the test with the errors if it has any. */
async function mutate(query: string, variables: Loose, via = A, token = ADMIN_TOKEN): Promise<Loose> {
  const res = await graphqlClient(via.url, token)(query, variables);
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return Object.values(res.data ?? {})[0] as Loose;
}

async function history(id: string, args: Loose = {}, via = B): Promise<Loose[]> {
  const res = await graphqlClient(via.url, VIEWER_TOKEN)(HISTORY, { id, first: 50, ...args });
  expect(res.errors).toBeUndefined();
  return res.data?.campaignHistory;
}

/** The change-log items of one version, as GraphQL shows them. */
async function itemsOf(version: number): Promise<Loose[]> {
  const res = await graphqlClient(B.url, VIEWER_TOKEN)(CHANGES, { since: version - 1 });
  return ((res.data?.ruleChanges ?? []) as Loose[]).filter((item) => item.version === version);
}

/** A campaign of the calling test's own, created through A; its change. */
const createOwn = (id: string, extra: Loose = {}) => mutate(CREATE, { input: campaign(id, extra) });

const emptyDimensions = { apps: [], countries: [], os: [], categories: [] };
const targeting = (include: Loose = {}, exclude: Loose = {}) => ({
  include: { ...emptyDimensions, ...include },
  exclude: { ...emptyDimensions, ...exclude },
});

beforeAll(async () => {
  database = await createTestDatabase();
  [{ user: sqlUser }] = (await database.sql<{ user: string }>("SELECT current_user AS user")) as [{ user: string }];
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("audit"),
    ADMIN_TOKEN,
    VIEWER_TOKEN,
    PROPAGATION_TIMEOUT_MS: "3000",
  };
  [A, B] = (await startReplicas(["A", "B"], env)) as [RunningServer, RunningServer];
});

afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
  await database?.drop();
});

describe("audit trail", () => {
  it("records the key's name and the reason of a GraphQL change", async () => {
    const created = await mutate(CREATE, { input: campaign("audited"), reason: "spring launch" });
    expect(await itemsOf(created.version)).toEqual([
      {
        version: created.version,
        kind: "CAMPAIGN_CREATED",
        campaignId: "audited",
        categoryId: null,
        actor: "env-admin",
        reason: "spring launch",
      },
    ]);

    const key = await mutate(`mutation { createApiKey(name: "alice", role: ADMIN) { key } }`, {});
    // B learns of the new key from the bus (or its poll of the key counter), not in the creating request.
    await expect
      .poll(async () => (await graphqlClient(B.url, key.key)("{ me { name } }")).data?.me?.name, {
        message: "B accepts the key created through A",
      })
      .toBe("alice");
    const updated = await mutate(UPDATE, { id: "audited", input: { priority: 3 }, reason: "   " }, B, key.key);
    expect(await itemsOf(updated.version)).toMatchObject([{ actor: "alice", reason: null }]);
  });

  it("refuses a reason over 1,000 characters, writing nothing", async () => {
    await createOwn("audited-long");
    const before = await latestVersion();
    const res = await graphqlClient(A.url)(UPDATE, {
      id: "audited-long",
      input: { priority: 4 },
      reason: "x".repeat(1001),
    });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toEqual({ reason: "must be at most 1000 characters" });
    expect(await latestVersion()).toBe(before);
  });

  it("records sql:<database user> for a change made in SQL, with the reason a session sets", async () => {
    await createOwn("audited-sql");
    await database.sql("UPDATE campaign SET priority = 8 WHERE id = 'audited-sql'");
    const plain = await latestVersion();
    await database.sql(`BEGIN; SET LOCAL bullseye.reason = 'hotfix from psql';
      UPDATE campaign SET priority = 9 WHERE id = 'audited-sql'; COMMIT;`);
    const explained = await latestVersion();
    expect(await itemsOf(plain)).toMatchObject([{ actor: `sql:${sqlUser}`, reason: null }]);
    expect(await itemsOf(explained)).toMatchObject([{ actor: `sql:${sqlUser}`, reason: "hotfix from psql" }]);
  });

  it("streams actor and reason to subscribers on another replica, over SSE and WebSocket", async () => {
    const query = `subscription($since: Int) { ruleChanges(sinceVersion: $since) { version campaignId actor reason } }`;
    await createOwn("audited-live");
    const since = await latestVersion();
    const sse = await subscribeSse(B.url, VIEWER_TOKEN, query, { since });
    const ws = subscribeWs(B.url, VIEWER_TOKEN, query, { since });
    try {
      const viaApi = await mutate(UPDATE, { id: "audited-live", input: { priority: 5 }, reason: "live" });
      await database.sql("UPDATE campaign SET priority = 6 WHERE id = 'audited-live'");
      for (const subscription of [sse, ws]) {
        await subscription.until((s) => s.data.length >= 2, "two changes");
        expect(subscription.data).toEqual([
          { version: viaApi.version, campaignId: "audited-live", actor: "env-admin", reason: "live" },
          { version: viaApi.version + 1, campaignId: "audited-live", actor: `sql:${sqlUser}`, reason: null },
        ]);
      }
    } finally {
      await Promise.all([sse.close(), ws.close()]);
    }
  });
});

describe("campaign history", () => {
  const r1 = targeting({ apps: ["h1"], countries: ["CA"] });
  const r2 = targeting({ os: ["ios"] }, { countries: ["DE"] });

  it("holds every revision newest first with the whole state: create, update, import, SQL edit, delete", async () => {
    const v1 = (
      await mutate(CREATE, {
        input: campaign("hist", { priority: 1, targeting: { include: { apps: ["H1"], countries: ["Canada"] } } }),
        reason: "r1",
      })
    ).version;
    const v2 = (
      await mutate(UPDATE, {
        id: "hist",
        input: {
          name: "Hist 2",
          endsAt: "2031-01-01T00:00:00.000Z",
          targeting: { include: { os: ["iOS"] }, exclude: { countries: ["DE"] } },
        },
      })
    ).version;
    const v3 = (await mutate(IMPORT, { campaigns: [campaign("hist", { name: "Imported" }), campaign("hist-b")] }))
      .version;
    const alive = await graphqlClient(B.url)(`{ campaign(id: "hist") { revision history(first: 1) { revision } } }`);
    expect(alive.data?.campaign).toEqual({ revision: 3, history: [{ revision: 3 }] });
    await database.sql(`INSERT INTO targeting_rule VALUES ('hist', 'APP', 'INCLUDE', 'sqlapp')`);
    const v4 = await latestVersion();
    const v5 = (await mutate(DELETE, { id: "hist", reason: "gone" })).version;

    const revisions = await history("hist");
    const base = { id: "hist", imageUrl: "https://cdn.example/hist.png", cta: "Go", status: "ACTIVE", startsAt: null };
    const s1 = { ...base, name: "hist", priority: 1, endsAt: null, targeting: r1 };
    const s2 = { ...base, name: "Hist 2", priority: 1, endsAt: "2031-01-01T00:00:00.000Z", targeting: r2 };
    const s3 = { ...base, name: "Imported", priority: 0, endsAt: null, targeting: targeting() };
    const s4 = { ...s3, targeting: targeting({ apps: ["sqlapp"] }) };
    expect(revisions.map(({ at: _at, ...r }) => r)).toEqual([
      { revision: 5, version: v5, actor: "env-admin", reason: "gone", deleted: true, campaign: s4 },
      { revision: 4, version: v4, actor: `sql:${sqlUser}`, reason: null, deleted: false, campaign: s4 },
      { revision: 3, version: v3, actor: "env-admin", reason: null, deleted: false, campaign: s3 },
      { revision: 2, version: v2, actor: "env-admin", reason: null, deleted: false, campaign: s2 },
      { revision: 1, version: v1, actor: "env-admin", reason: "r1", deleted: false, campaign: s1 },
    ]);
    const at = revisions.map((r) => Date.parse(r.at));
    expect(at).toEqual([...at].sort((a, b) => b - a));
  });

  it("pages with first and after", async () => {
    // Five revisions of this test's own: create, three updates, delete.
    await createOwn("hist-pages");
    for (const priority of [1, 2, 3]) await mutate(UPDATE, { id: "hist-pages", input: { priority } });
    await mutate(DELETE, { id: "hist-pages" });
    const pages: number[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await history("hist-pages", { first: 2, after });
      if (page.length === 0) break;
      pages.push(page.map((r) => r.revision));
      after = String(page.at(-1)?.revision);
    }
    expect(pages).toEqual([[5, 4], [3, 2], [1]]);
    const bad = await graphqlClient(B.url)(HISTORY, { id: "hist-pages", after: "abc" });
    expect(codes(bad)).toEqual(["BAD_USER_INPUT"]);
  });

  it("continues the count when a deleted campaign is created again", async () => {
    await createOwn("hist-again");
    await mutate(UPDATE, { id: "hist-again", input: { priority: 1 } });
    await mutate(DELETE, { id: "hist-again" });
    const created = await mutate(CREATE, { input: campaign("hist-again") });
    expect(created.campaign.revision).toBe(4);
    expect((await history("hist-again", { first: 2 })).map((r) => [r.revision, r.deleted])).toEqual([
      [4, false],
      [3, true],
    ]);
  });

  it("gives every listed campaign its history, the newest revision being the current one", async () => {
    await createOwn("listed");
    await mutate(UPDATE, { id: "listed", input: { priority: 1 } });
    const res = await graphqlClient(B.url)(`{ campaigns(first: 50) { id revision history(first: 2) { revision } } }`);
    expect(res.errors).toBeUndefined();
    const campaigns = (res.data?.campaigns ?? []) as Loose[];
    expect(campaigns.find((c) => c.id === "listed")).toEqual({
      id: "listed",
      revision: 2,
      history: [{ revision: 2 }, { revision: 1 }],
    });
    for (const c of campaigns) {
      expect(c.history[0]?.revision, c.id).toBe(c.revision);
    }
  });
});

describe("category history", () => {
  const CATEGORY_HISTORY = `query($id: ID!) { categoryHistory(id: $id) {
    revision version actor reason deleted category { id name apps } } }`;

  it("holds every revision: upsert, new apps, SQL TRUNCATE, delete", async () => {
    const upsert = `mutation($input: CategoryInput!, $reason: String) { upsertCategory(input: $input, reason: $reason) { version } }`;
    const v1 = (await mutate(upsert, { input: { id: "news", name: "News", apps: ["nyt", "bbc"] }, reason: "new" }))
      .version;
    const v2 = (await mutate(upsert, { input: { id: "news", name: "News", apps: ["nyt"] } })).version;
    await database.sql("TRUNCATE category_app");
    const v3 = await latestVersion();
    const alive = await graphqlClient(B.url)(`{ category(id: "news") { history(first: 1) { revision } } }`);
    expect(alive.data?.category.history).toEqual([{ revision: 3 }]);
    const v4 = (await mutate(`mutation { deleteCategory(id: "news") { version } }`, {})).version;

    const res = await graphqlClient(B.url)(CATEGORY_HISTORY, { id: "news" });
    const state = (apps: string[]) => ({ id: "news", name: "News", apps });
    expect(res.data?.categoryHistory).toEqual([
      { revision: 4, version: v4, actor: "env-admin", reason: null, deleted: true, category: state([]) },
      { revision: 3, version: v3, actor: `sql:${sqlUser}`, reason: null, deleted: false, category: state([]) },
      { revision: 2, version: v2, actor: "env-admin", reason: null, deleted: false, category: state(["nyt"]) },
      { revision: 1, version: v1, actor: "env-admin", reason: "new", deleted: false, category: state(["bbc", "nyt"]) },
    ]);
  });
});

describe("revertCampaign", () => {
  const device = ["rvapp", "ios", "US"] as const;
  /** Whether a replica's delivery serves "rv" (campaigns of other tests without rules match any device). */
  const servesRv = async (replica: RunningServer, d: readonly [string, string, string] = device, id = "rv") =>
    (await deliver(replica.url, ...d)).cids.includes(id);

  it("writes the old state exactly as a new revision, one version, delivered by every replica", async () => {
    const first = await mutate(CREATE, {
      input: campaign("rv", {
        priority: 7,
        startsAt: "2020-01-01T00:00:00.000Z",
        targeting: { include: { apps: ["rvapp"], countries: ["US"] }, exclude: { os: ["android"] } },
      }),
    });
    expect(await servesRv(B)).toBe(true);
    await mutate(UPDATE, {
      id: "rv",
      input: { name: "Changed", priority: 1, status: "PAUSED", targeting: { include: { apps: ["other"] } } },
    });
    expect(await servesRv(B)).toBe(false);

    const reverted = await mutate(REVERT, { id: "rv", to: 1, expected: 2, reason: "undo the pause" });
    expect(reverted.propagated).toBe(true);
    const { revision, ...state } = reverted.campaign;
    const { revision: _r1, ...original } = first.campaign;
    expect(revision).toBe(3);
    expect(state).toEqual(original);
    const [latest] = await history("rv", { first: 1 });
    expect(latest).toMatchObject({
      revision: 3,
      version: reverted.version,
      actor: "env-admin",
      reason: "undo the pause",
    });
    expect(latest?.campaign).toEqual(original);
    expect(await itemsOf(reverted.version)).toMatchObject([{ kind: "CAMPAIGN_UPDATED", campaignId: "rv" }]);
    for (const replica of [A, B]) {
      const answer = await deliver(replica.url, ...device);
      expect(answer.version).toBeGreaterThanOrEqual(reverted.version);
      expect(answer.cids).toContain("rv");
      expect(await servesRv(replica, ["rvapp", "android", "US"])).toBe(false);
    }
  });

  it("answers CONFLICT on a stale expectedRevision, NOT_FOUND for a revision it never had, writing nothing", async () => {
    await createOwn("rv-stale");
    for (const priority of [1, 2]) await mutate(UPDATE, { id: "rv-stale", input: { priority } });
    const before = await latestVersion();
    const stale = await graphqlClient(A.url)(REVERT, { id: "rv-stale", to: 1, expected: 2 });
    expect(codes(stale)).toEqual(["CONFLICT"]);
    expect(stale.errors?.[0]?.extensions?.revision).toBe(3);
    expect(codes(await graphqlClient(A.url)(REVERT, { id: "rv-stale", to: 99 }))).toEqual(["NOT_FOUND"]);
    expect(codes(await graphqlClient(A.url)(REVERT, { id: "nothing-here", to: 1 }))).toEqual(["NOT_FOUND"]);
    expect(codes(await graphqlClient(A.url, VIEWER_TOKEN)(REVERT, { id: "rv-stale", to: 1 }))).toEqual(["FORBIDDEN"]);
    expect(await latestVersion()).toBe(before);
  });

  it("restores a deleted campaign, continuing its revisions", async () => {
    const own = ["rvdelapp", "ios", "US"] as const;
    await createOwn("rv-del", { targeting: { include: { apps: ["rvdelapp"] } } });
    await mutate(UPDATE, { id: "rv-del", input: { name: "Changed" } });
    await mutate(UPDATE, { id: "rv-del", input: { priority: 4 } });
    expect(await servesRv(B, own, "rv-del")).toBe(true);
    await mutate(DELETE, { id: "rv-del" });
    expect(await servesRv(B, own, "rv-del")).toBe(false);
    expect(codes(await graphqlClient(A.url)(REVERT, { id: "rv-del", to: 4 }))).toEqual(["BAD_USER_INPUT"]);
    const restored = await mutate(REVERT, { id: "rv-del", to: 3, expected: 4 });
    expect(restored.campaign.revision).toBe(5);
    expect(await servesRv(B, own, "rv-del")).toBe(true);
    const revisions = await history("rv-del", { first: 3 });
    expect(revisions.map((r) => [r.revision, r.deleted])).toEqual([
      [5, false],
      [4, true],
      [3, false],
    ]);
    expect(revisions[0]?.campaign).toEqual(revisions[2]?.campaign);
  });
});

describe("TRUNCATE", () => {
  it("gives every campaign it removes a deletion revision", async () => {
    await createOwn("truncated-a");
    await createOwn("truncated-b");
    const ids = (await database.sql<{ id: string }>("SELECT id FROM campaign ORDER BY id")).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(1);
    await database.sql("TRUNCATE campaign CASCADE");
    const version = await latestVersion();
    const rows = await database.sql<{ campaign_id: string }>(
      "SELECT campaign_id FROM campaign_revision WHERE version = $1 AND deleted ORDER BY 1",
      [version],
    );
    expect(rows.map((r) => r.campaign_id)).toEqual(ids);
  });
});

describe("retention", () => {
  let db: Db;
  beforeAll(() => {
    db = createDb(database.url, { max: 2 });
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  const revisionsOf = async (table: "campaign" | "category", id: string) =>
    (
      await database.sql<{ revision: number }>(
        `SELECT revision FROM ${table}_revision WHERE ${table}_id = $1 ORDER BY revision`,
        [id],
      )
    ).map((r) => r.revision);

  it("deletes revisions older than HISTORY_DAYS in batches, keeping recent ones and what exists now", async () => {
    // Revisions other tests left prunable (a TRUNCATE, say, removed what they belong to) go first: the
    // counts below are this test's own.
    await pruneHistory(db, 90);
    for (const id of ["old-live", "old-gone", "recent"]) await mutate(CREATE, { input: campaign(id) });
    for (const id of ["old-live", "recent"]) {
      await mutate(UPDATE, { id, input: { priority: 1 } });
      await mutate(UPDATE, { id, input: { priority: 2 } });
    }
    await mutate(DELETE, { id: "old-gone" });
    await mutate(`mutation { upsertCategory(input: { id: "old-cat", name: "Old", apps: ["a"] }) { version } }`, {});
    await mutate(`mutation { upsertCategory(input: { id: "old-cat", name: "Old", apps: ["b"] }) { version } }`, {});
    await database.sql(
      `UPDATE campaign_revision SET at = now() - interval '100 days' WHERE campaign_id IN ('old-live', 'old-gone')`,
    );
    await database.sql(`UPDATE category_revision SET at = now() - interval '100 days' WHERE category_id = 'old-cat'`);

    const { deleted } = await pruneHistory(db, 90, 2);
    expect(deleted).toBe(2 + 2 + 1);
    expect(await revisionsOf("campaign", "old-live")).toEqual([3]);
    expect(await revisionsOf("campaign", "old-gone")).toEqual([]);
    expect(await revisionsOf("campaign", "recent")).toEqual([1, 2, 3]);
    expect(await revisionsOf("category", "old-cat")).toEqual([2]);
    expect((await history("old-live")).map((r) => r.revision)).toEqual([3]);
    expect((await pruneHistory(db, 90)).deleted).toBe(0);
  });

  it("leaves the run to the replica that holds the lock", async () => {
    await pruneHistory(db, 90); // what other tests left prunable: the counts below are this test's own
    await createOwn("locked");
    for (const priority of [1, 2, 3]) await mutate(UPDATE, { id: "locked", input: { priority } });
    await database.sql(`UPDATE campaign_revision SET at = now() - interval '100 days' WHERE campaign_id = 'locked'`);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query("SELECT pg_advisory_lock($1, 2)", [0x42554c4c]);
      expect((await pruneHistory(db, 90)).deleted).toBeNull();
      expect(await revisionsOf("campaign", "locked")).toEqual([1, 2, 3, 4]);
    } finally {
      await other.end();
    }
    expect((await pruneHistory(db, 90)).deleted).toBe(3);
    expect(await revisionsOf("campaign", "locked")).toEqual([4]);
  });
});

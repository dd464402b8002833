// importCampaigns: thousands of campaigns upserted in one transaction with one version, quickly; an
// invalid item fails the whole batch, naming the item and the field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;

const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) {
  importCampaigns(campaigns: $campaigns) { version propagated count } }`;
const COUNTRIES = ["US", "Canada", "de", "France", "JP"];

const count = async (sql: string) => Number((await database.sql<{ n: string }>(sql))[0]?.n);
const logRows = () => count("SELECT count(*) AS n FROM change_log");

/** Each test imports under its own id prefix: none reads what another wrote. */
function campaigns(n: number, name = "Imported", prefix = "imp") {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(5, "0")}`,
    name: `${name} ${i}`,
    imageUrl: `https://cdn.example/imp/${i}.png`,
    cta: "Install",
    priority: i % 1001,
    targeting: {
      include: { apps: [`com.imp.app${i % 50}`], countries: [COUNTRIES[i % 5], COUNTRIES[(i + 1) % 5]] },
      exclude: { os: i % 3 === 0 ? ["harmonyos"] : [] },
    },
  }));
}

beforeAll(async () => {
  database = await createTestDatabase();
  // `propagated` is checked as behaviour (true once the replica applied the import), with room for a
  // CI machine running other files alongside; the time it takes is bench:bulk's figure, not a test's.
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN, PROPAGATION_TIMEOUT_MS: "10000" } });
  gql = graphqlClient(server.url);
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("importCampaigns", () => {
  it("imports 5,000 campaigns in one transaction with exactly one version", async () => {
    const logBefore = await logRows();
    const batch = campaigns(5_000);
    const rules = batch.reduce((n, c) => n + 3 + c.targeting.exclude.os.length, 0);
    const started = performance.now();
    const res = await gql(IMPORT, { campaigns: batch });
    const ms = Math.round(performance.now() - started);
    console.log(`importCampaigns: 5,000 campaigns (${rules} rules) in ${ms} ms (HTTP round trip, incl. index refresh)`);

    expect(res.errors).toBeUndefined();
    expect(res.data?.importCampaigns).toMatchObject({ count: 5_000, propagated: true });
    const version = res.data?.importCampaigns.version;
    expect(await logRows()).toBe(logBefore + 1);
    expect(await count(`SELECT count(*) AS n FROM change_log_item WHERE version = ${Number(version)}`)).toBe(5_000);
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'imp-%'")).toBe(5_000);
    expect(await count("SELECT count(*) AS n FROM targeting_rule WHERE campaign_id LIKE 'imp-%'")).toBe(rules);

    const status = await gql(`{ indexStatus { version campaigns } }`);
    expect(status.data?.indexStatus).toEqual({ version, campaigns: await count("SELECT count(*) AS n FROM campaign") });
    // Campaigns 7, 57, 107… target com.imp.app7 in "de" and "France", stored as DE and FR.
    const served = await deliver(server.url, "com.imp.app7", "android", "Germany");
    expect(served.version).toBe(version);
    expect(served.cids.filter((cid) => cid.startsWith("imp-"))).toHaveLength(100);
    expect(served.cids).toContain("imp-00007");
  }, 60_000);

  it("replaces existing campaigns whole on re-import (fields, rules, revision + 1), still one version", async () => {
    expect((await gql(IMPORT, { campaigns: campaigns(3, "First", "re") })).errors).toBeUndefined();
    const logBefore = await logRows();
    const batch = campaigns(3, "Reimported", "re").map((c, i) => (i === 0 ? { ...c, targeting: undefined } : c));
    const fresh = { id: "re-new", name: "New", imageUrl: "https://x.example/n.png", cta: "Go" };
    const res = await gql(IMPORT, { campaigns: [...batch, fresh] });
    expect(res.data?.importCampaigns.count).toBe(4);
    expect(await logRows()).toBe(logBefore + 1);
    const rows = await database.sql(
      `SELECT id, name, revision, (SELECT count(*)::int FROM targeting_rule r WHERE r.campaign_id = c.id) AS rules
       FROM campaign c WHERE id IN ('re-00000', 're-00001', 're-new') ORDER BY id`,
    );
    expect(rows).toEqual([
      { id: "re-00000", name: "Reimported 0", revision: 2, rules: 0 },
      { id: "re-00001", name: "Reimported 1", revision: 2, rules: 3 },
      { id: "re-new", name: "New", revision: 1, rules: 0 },
    ]);
    const items = await database.sql<{ kind: string; n: number }>(
      "SELECT kind, count(*)::int AS n FROM change_log_item WHERE version = $1 GROUP BY kind ORDER BY kind",
      [res.data?.importCampaigns.version],
    );
    expect(items).toEqual([
      { kind: "CAMPAIGN_CREATED", n: 1 },
      { kind: "CAMPAIGN_UPDATED", n: 3 },
    ]);
  });

  it("re-importing changed targeting stores exactly the new rules, and delivery follows at once", async () => {
    const before = {
      id: "sync-1",
      name: "Sync",
      imageUrl: "https://x.example/s.png",
      cta: "Go",
      targeting: { include: { apps: ["com.sync.a", "com.sync.b"], countries: ["US"] }, exclude: { os: ["ios"] } },
    };
    const other = { ...before, id: "sync-2", targeting: { include: { apps: ["com.sync.a"] } } };
    expect((await gql(IMPORT, { campaigns: [before, other] })).errors).toBeUndefined();
    expect((await deliver(server.url, "com.sync.b", "android", "US")).cids).toContain("sync-1");

    // com.sync.b and the ios exclusion go, com.sync.c and DE come, com.sync.a and US stay; sync-2 is
    // re-sent unchanged.
    const after = {
      ...before,
      targeting: { include: { apps: ["com.sync.a", "com.sync.c"], countries: ["US", "DE"] }, exclude: {} },
    };
    const res = await gql(IMPORT, { campaigns: [after, other] });
    expect(res.errors).toBeUndefined();
    const rules = await database.sql<{ campaign_id: string; rule: string }>(
      `SELECT campaign_id, mode || ' ' || dimension || ' ' || value AS rule FROM targeting_rule
       WHERE campaign_id LIKE 'sync-%' ORDER BY campaign_id, rule`,
    );
    expect(rules).toEqual([
      { campaign_id: "sync-1", rule: "INCLUDE APP com.sync.a" },
      { campaign_id: "sync-1", rule: "INCLUDE APP com.sync.c" },
      { campaign_id: "sync-1", rule: "INCLUDE COUNTRY DE" },
      { campaign_id: "sync-1", rule: "INCLUDE COUNTRY US" },
      { campaign_id: "sync-2", rule: "INCLUDE APP com.sync.a" },
    ]);
    expect((await deliver(server.url, "com.sync.b", "android", "US")).cids).not.toContain("sync-1");
    expect((await deliver(server.url, "com.sync.c", "ios", "Germany")).cids).toContain("sync-1");
    expect((await deliver(server.url, "com.sync.a", "ios", "US")).cids).toEqual(
      expect.arrayContaining(["sync-1", "sync-2"]),
    );
    const history = await gql(`{ campaign(id: "sync-1") { revision } }`);
    expect(history.data?.campaign).toEqual({ revision: 2 });
  });

  it("rolls back the whole batch when one item is invalid, naming each bad item and field", async () => {
    const logBefore = await logRows();
    const revisions = await count("SELECT sum(revision) AS n FROM campaign");
    const batch: Record<string, unknown>[] = campaigns(5_000, "Never stored", "bad");
    batch[17] = { ...batch[17], imageUrl: "not a url" };
    batch[4_000] = { ...batch[4_000], targeting: { include: { countries: ["Atlantis"] } } };
    batch[4_999] = { ...batch[4_999], id: "bad-00003" };
    const res = await gql(IMPORT, { campaigns: batch });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toEqual({
      "campaigns.17.imageUrl": "must be an absolute http or https URL",
      "campaigns.4000.targeting.include.countries.0": "must be an ISO 3166-1 alpha-2 code or English country name",
      "campaigns.4999.id": "duplicate of campaigns.3.id",
    });
    expect(res.errors?.[0]?.message).toMatch(/campaigns\.17\.imageUrl/);
    expect(await logRows()).toBe(logBefore);
    expect(await count("SELECT sum(revision) AS n FROM campaign")).toBe(revisions);
    expect(await count("SELECT count(*) AS n FROM campaign WHERE name LIKE 'Never stored%'")).toBe(0);
  }, 60_000);

  // Valid campaigns are written while the rest are validated (campaign-mutations.ts): an item found bad
  // late must still leave nothing behind, although thousands before it were already in the transaction.
  it("rolls back the campaigns written while a late bad item was still being checked", async () => {
    const logBefore = await logRows();
    const batch: Record<string, unknown>[] = campaigns(3_000, "Late failure", "late");
    batch[2_900] = { ...batch[2_900], priority: 5_000 };
    const res = await gql(IMPORT, { campaigns: batch });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toEqual({ "campaigns.2900.priority": "must be 0–1000" });
    expect(await logRows()).toBe(logBefore);
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'late-%'")).toBe(0);
    expect(await count("SELECT count(*) AS n FROM targeting_rule WHERE campaign_id LIKE 'late-%'")).toBe(0);
    const fixed = await gql(IMPORT, { campaigns: batch.map((c, i) => (i === 2_900 ? { ...c, priority: 5 } : c)) });
    expect(fixed.errors).toBeUndefined();
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'late-%'")).toBe(3_000);
  }, 60_000);

  // A long list variable is coerced in slices before execution (src/schema/sliced-variables.ts): what
  // the client sees must be what graphql-js itself answers.
  it("answers a long batch that does not fit its GraphQL type with graphql-js's own error, storing nothing", async () => {
    const logBefore = await logRows();
    const batch: Record<string, unknown>[] = campaigns(500, "Mistyped", "typ");
    batch[321] = { ...batch[321], priority: "high" };
    const res = await gql(IMPORT, { campaigns: batch });
    expect(res.data).toBeUndefined();
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]?.message).toMatch(
      /^Variable "\$campaigns" got invalid value "high" at "campaigns\[321\]\.priority"; Int cannot represent non-integer value/,
    );
    expect(await logRows()).toBe(logBefore);
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'typ-%'")).toBe(0);
  });

  it("imports a long batch however the operation uses its variable: twice under aliases, or followed by another mutation", async () => {
    const twice = await gql(
      `mutation($campaigns: [CreateCampaignInput!]!) {
        first: importCampaigns(campaigns: $campaigns) { count }
        again: importCampaigns(campaigns: $campaigns) { count } }`,
      { campaigns: campaigns(300, "Twice", "two") },
    );
    expect(twice.errors).toBeUndefined();
    expect(twice.data).toEqual({ first: { count: 300 }, again: { count: 300 } });
    // Beside another mutation of the same operation, run in order after it.
    const shared = await gql(
      `mutation($campaigns: [CreateCampaignInput!]!, $id: ID!) {
        importCampaigns(campaigns: $campaigns) { count }
        deleteCampaign(id: $id) { version } }`,
      { campaigns: campaigns(200, "Shared", "shr"), id: "shr-00199" },
    );
    expect(shared.errors).toBeUndefined();
    expect(shared.data?.importCampaigns).toEqual({ count: 200 });
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'two-%'")).toBe(300);
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'shr-%'")).toBe(199);
    const served = await deliver(server.url, "com.imp.app8", "ios", "JP");
    expect(served.cids).toContain("two-00008");
    expect(served.cids).toContain("shr-00008");
  });

  it("refuses an empty batch", async () => {
    const res = await gql(IMPORT, { campaigns: [] });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toHaveProperty("campaigns");
  });

  it("answers a large body that is not JSON, or not an object, exactly as a small one", async () => {
    const post = async (body: string) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body,
      });
      const answer = (await res.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
      return { status: res.status, errors: answer.errors?.map((e) => [e.message, e.extensions?.code]) };
    };
    // Over 256 KB, a body is read and parsed in slices (src/schema/sliced-json.ts); under it, by Yoga.
    const large = JSON.stringify({ query: IMPORT, variables: { campaigns: campaigns(2_000, "Large", "lrg") } });
    expect(large.length).toBeGreaterThan(300_000);
    const small = JSON.stringify({ query: IMPORT, variables: { campaigns: campaigns(2, "Small", "sml") } });
    const broken = [(text: string) => text.slice(0, -1), (text: string) => `{,${text.slice(1)}`];
    for (const cut of broken) {
      const [bigAnswer, smallAnswer] = [await post(cut(large)), await post(cut(small))];
      expect(bigAnswer.errors).toEqual([["POST body sent invalid JSON.", "BAD_REQUEST"]]);
      expect(bigAnswer).toEqual(smallAnswer);
    }
    expect(await post(`[${large}]`)).toEqual(await post(`[${small}]`));
    expect(await count("SELECT count(*) AS n FROM campaign WHERE id LIKE 'lrg-%' OR id LIKE 'sml-%'")).toBe(0);

    // And a valid large body is the import it says.
    const res = await gql(IMPORT, { campaigns: campaigns(2_000, "Large", "lrg") });
    expect(res.data?.importCampaigns).toMatchObject({ count: 2_000 });
  });
});

// No N+1: listing 100 campaigns with their targeting and every category with its campaigns (and their
// targeting) costs a fixed, small number of SQL statements, counted from the server's LOG_SQL output.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type RunningServer, startServer, waitUntil } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;

const TARGETING = `targeting { include { apps countries os categories } exclude { apps countries os categories } }`;
const isSql = (line: unknown) => typeof line === "object" && line !== null && (line as { msg?: string }).msg === "sql";
const sqlLines = () => server.logs.filter(isSql) as { sql: string }[];

/**
 * Waits until the replica serves the latest change (its own reads of the change log are done). The
 * server runs in this process: a statement is logged as Prisma sends it, before the answer it serves.
 */
async function settled(): Promise<void> {
  const version = (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;
  await waitUntil(async () => (await deliver(server.url, "any", "ios", "US")).version >= version, {
    what: `the index at version ${version}`,
  });
}

/** Runs one GraphQL operation and returns the SQL statements the server logged for it. */
async function sqlFor(query: string): Promise<string[]> {
  // Nothing else runs meanwhile: index polling is set to 60 s and no mutation is in flight.
  await settled();
  const before = sqlLines().length;
  const res = await gql(query);
  expect(res.errors).toBeUndefined();
  await settled();
  return sqlLines()
    .slice(before)
    .map((l) => l.sql);
}

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({
    env: { DATABASE_URL: database.url, ADMIN_TOKEN, LOG_SQL: "1", LOG_LEVEL: "debug", INDEX_POLL_MS: "60000" },
  });
  gql = graphqlClient(server.url);
  const categories = Array.from({ length: 20 }, (_, i) => `cat${i}`);
  for (const id of categories) {
    const res = await gql(`mutation($input: CategoryInput!) { upsertCategory(input: $input) { version } }`, {
      input: { id, name: id, apps: [`${id}.app1`, `${id}.app2`] },
    });
    expect(res.errors).toBeUndefined();
  }
  const campaigns = Array.from({ length: 120 }, (_, i) => ({
    id: `c${String(i).padStart(3, "0")}`,
    name: `Campaign ${i}`,
    imageUrl: `https://cdn.example/${i}.png`,
    cta: "Go",
    targeting: {
      include: { categories: [categories[i % 20], categories[(i + 7) % 20]], countries: ["US", "DE"] },
      exclude: { apps: [`blocked${i}`], os: ["harmonyos"] },
    },
  }));
  const imported = await gql(`mutation($c: [CreateCampaignInput!]!) { importCampaigns(campaigns: $c) { count } }`, {
    c: campaigns,
  });
  expect(imported.data?.importCampaigns.count).toBe(120);
  await settled();
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("N+1", () => {
  it("lists 100 campaigns with targeting and all categories with their campaigns in at most 3 SQL queries", async () => {
    const statements = await sqlFor(`{
      campaigns(first: 100) { id name ${TARGETING} }
      categories { id name apps campaigns { id name ${TARGETING} } }
    }`);
    console.log(`N+1 check: 100 campaigns + 20 categories with their campaigns: ${statements.length} SQL queries`);
    for (const sql of statements) console.log(`  ${sql.slice(0, 110)}…`);
    expect(statements.length).toBeLessThanOrEqual(3);
  });

  it("keeps each list at one query per level (campaigns alone: 1, categories with campaigns: 2)", async () => {
    expect(await sqlFor(`{ campaigns(first: 100) { id ${TARGETING} } }`)).toHaveLength(1);
    expect(await sqlFor(`{ categories { id apps campaigns { id ${TARGETING} } } }`)).toHaveLength(2);
  });

  it("lists 100 campaigns and 20 categories with their history in 4 SQL queries (one per list, one per history)", async () => {
    const statements = await sqlFor(`{
      campaigns(first: 100) { id history(first: 2) { revision actor campaign { name ${TARGETING} } } }
      categories { id history(first: 2) { revision category { apps } } }
    }`);
    expect(statements).toHaveLength(4);
  });

  it("authenticates a named API key from memory: 50 requests, no SQL", async () => {
    const created = await gql(`mutation { createApiKey(name: "n-plus-one", role: VIEWER) { key } }`);
    const viewer = graphqlClient(server.url, created.data?.createApiKey.key);
    await settled();
    const before = sqlLines().length;
    for (let i = 0; i < 50; i++) expect((await viewer("{ me { name role } }")).data?.me.name).toBe("n-plus-one");
    await settled();
    expect(sqlLines().slice(before)).toEqual([]);
  });

  it("answers a campaignsPage of 50 with targeting in two queries (ids, nodes), plus the count when asked", async () => {
    const page = `campaignsPage(filter: { search: "campaign", targets: { countries: ["US"] } }, orderBy: PRIORITY, first: 50)`;
    expect(await sqlFor(`{ ${page} { nodes { id ${TARGETING} } } }`)).toHaveLength(2);
    expect(await sqlFor(`{ ${page} { totalCount nodes { id ${TARGETING} } } }`)).toHaveLength(3);
  });

  it("returns the right campaigns per category through the loader", async () => {
    const res = await gql(`{ category(id: "cat3") { campaigns { id targeting { include { categories } } } } }`);
    const campaigns = res.data?.category.campaigns as {
      id: string;
      targeting: { include: { categories: string[] } };
    }[];
    expect(campaigns.length).toBe(12);
    for (const c of campaigns) expect(c.targeting.include.categories).toContain("cat3");
    expect(campaigns.map((c) => c.id)).toEqual([...campaigns.map((c) => c.id)].sort());
  });
});

// Mutations under contention and a database that stops answering: every failure is coded and
// retryable (UNAVAILABLE with a retry hint, CONFLICT), never INTERNAL_SERVER_ERROR; queued writes
// succeed rather than time out on the pool; a frozen database (connections open, nothing answered)
// is UNAVAILABLE for queries and mutations alike while delivery keeps answering.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, type GraphQLResponse, graphqlClient } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

let database: TestDatabase;
let a: RunningServer;
let b: RunningServer;
const extra: RunningServer[] = [];
let proxy: TcpProxy | undefined;

const UPDATE = `mutation($id: ID!, $p: Int!) { updateCampaign(id: $id, input: { priority: $p }) { version } }`;

function outcome(res: GraphQLResponse): string {
  if (!res.errors) return "ok";
  return String(res.errors[0]?.extensions?.code);
}

function tally(results: GraphQLResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const res of results) counts[outcome(res)] = (counts[outcome(res)] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  database = await createTestDatabase();
  const env = {
    DATABASE_URL: database.url,
    ADMIN_TOKEN,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("writes"),
  };
  [a, b] = await Promise.all([
    startServer({ env: { ...env, REPLICA_ID: "A" } }),
    startServer({ env: { ...env, REPLICA_ID: "B" } }),
  ]);
  const created = await graphqlClient(a.url)(`mutation {
    x: createCampaign(input: { id: "hot-1", name: "H", imageUrl: "https://x.example/h.png", cta: "Go" }) { version }
    y: createCampaign(input: { id: "hot-2", name: "H", imageUrl: "https://x.example/h.png", cta: "Go" }) { version } }`);
  expect(created.errors).toBeUndefined();
});

afterAll(async () => {
  // The database comes back (its connections cut) before the frozen replica stops: stopping against a
  // database that still hangs waits out the shutdown deadline, which shutdown.test.ts covers.
  await proxy?.close();
  await Promise.all([a, b, ...extra].map((s) => s?.stop()));
  await database?.drop();
});

describe("concurrent mutations", () => {
  it("300 concurrent updates of 2 campaigns, 200 through one replica: all coded, none INTERNAL_SERVER_ERROR", async () => {
    const before = (await database.sql<{ revision: number }>("SELECT sum(revision)::int AS revision FROM campaign"))[0]
      ?.revision;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        graphqlClient(i % 3 === 2 ? b.url : a.url)(UPDATE, { id: i % 2 ? "hot-1" : "hot-2", p: i % 1000 }),
      ),
    );
    const counts = tally(results);
    console.log(`300 concurrent updateCampaign (200 via A, 100 via B): ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).every((code) => ["ok", "UNAVAILABLE", "CONFLICT"].includes(code))).toBe(true);
    for (const res of results.filter((r) => outcome(r) === "UNAVAILABLE")) {
      expect(res.errors?.[0]?.extensions?.retryAfterMs, "UNAVAILABLE carries a retry hint").toBeGreaterThan(0);
    }
    // Nothing is lost: every success is exactly one revision more.
    const after = (await database.sql<{ revision: number }>("SELECT sum(revision)::int AS revision FROM campaign"))[0]
      ?.revision;
    expect(after).toBe((before ?? 0) + (counts.ok ?? 0));
  });

  it("past the queue bound: UNAVAILABLE at once with a retry hint, the rest succeed", async () => {
    const small = await startServer({
      env: {
        DATABASE_URL: database.url,
        ADMIN_TOKEN,
        REPLICA_ID: "small",
        WRITE_CONCURRENCY: "1",
        WRITE_QUEUE_MAX: "5",
      },
    });
    extra.push(small);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => graphqlClient(small.url)(UPDATE, { id: "hot-1", p: i })),
    );
    const counts = tally(results);
    console.log(`40 concurrent updates, 1 running + 5 queued allowed: ${JSON.stringify(counts)}`);
    expect(Object.keys(counts).sort()).toEqual(["UNAVAILABLE", "ok"]);
    expect(counts.ok).toBeGreaterThanOrEqual(6);
    const refused = results.find((r) => outcome(r) === "UNAVAILABLE");
    expect(refused?.errors?.[0]?.extensions).toMatchObject({ code: "UNAVAILABLE", retryAfterMs: 1000 });
  });
});

describe("a frozen database (connections open, nothing answered)", () => {
  it("answers UNAVAILABLE to queries and mutations within about 2 s, and delivery goes on", async () => {
    proxy = await startTcpProxy(5432);
    const url = new URL(database.url);
    url.port = String(proxy.port);
    const frozen = await startServer({ env: { DATABASE_URL: url.toString(), ADMIN_TOKEN, REPLICA_ID: "frozen" } });
    extra.push(frozen);
    const gql = graphqlClient(frozen.url);
    expect((await gql("{ campaigns { id } }")).errors).toBeUndefined();
    proxy.freeze();
    const queries = [
      "{ campaigns { id } }",
      `{ campaign(id: "hot-1") { id targeting { include { apps } } } }`,
      `mutation { updateCampaign(id: "hot-1", input: { name: "Frozen" }) { version } }`,
      `{ ruleChanges(sinceVersion: 0) { version } }`,
    ];
    // All at once: each must come back on its own, none queued behind another's hang.
    await Promise.all(
      queries.map(async (query) => {
        const started = performance.now();
        const res = await gql(query);
        const ms = Math.round(performance.now() - started);
        console.log(`frozen database: ${query.slice(0, 40)}… → ${codes(res)} after ${ms} ms`);
        expect(codes(res), query).toEqual(["UNAVAILABLE"]);
        expect(JSON.stringify(res.errors)).not.toMatch(/prisma|SELECT|timeout|\.ts:/i);
      }),
    );
    expect((await deliver(frozen.url, "app", "ios", "US")).status).toBe(200);
  });
});

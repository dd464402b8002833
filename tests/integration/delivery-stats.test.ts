// Delivery stats across replicas: each replica counts in memory and flushes to shared Redis; the
// GraphQL Campaign.stats sums every replica's counts, and a page of 100 campaigns costs one round trip.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient, type Loose } from "../helpers/graphql.ts";
import {
  monitorRedis,
  type PrivateRedis,
  type RedisMonitor,
  SHARED_REDIS_URL,
  startPrivateRedis,
  uniquePrefix,
} from "../helpers/redis.ts";
import { type RunningServer, startReplicas, startServer, waitUntil } from "../helpers/server.ts";

const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version propagated } }`;
const STATS = `query($first: Int) { campaigns(first: $first) { id stats { servedLastMinute servedLastHour series(minutes: 5) } } }`;

const campaign = (id: string, app: string) => ({
  id,
  name: id,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Go",
  targeting: { include: { apps: [app] } },
});

describe("two replicas sharing Redis", () => {
  let database: TestDatabase;
  let replicas: RunningServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_PREFIX: uniquePrefix("stats"),
      ADMIN_TOKEN,
      PROPAGATION_TIMEOUT_MS: "3000",
    };
    replicas = await startReplicas(["A", "B"], env);
  });

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop()));
    await database?.drop();
  });

  it("servedLastMinute sums every replica's deliveries within 2 s", async () => {
    const gql = graphqlClient(replicas[0]!.url);
    const created = await gql(IMPORT, { campaigns: [campaign("one", "app-one"), campaign("two", "app-two")] });
    expect(created.data?.importCampaigns.propagated).toBe(true);

    const N = 60;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        deliver(replicas[i % 2]!.url, i % 3 === 0 ? "app-two" : "app-one", "ios", "US"),
      ),
    );
    expect(answers.every((a) => a.cids.length === 1)).toBe(true);
    const expected = { one: answers.filter((a) => a.cids[0] === "one").length, two: N / 3 };

    const started = Date.now();
    let campaigns: Loose[] = [];
    await waitUntil(
      async () => {
        campaigns = (await gql(STATS)).data?.campaigns ?? [];
        return campaigns.reduce((sum, c) => sum + c.stats.servedLastMinute, 0) === N;
      },
      { timeoutMs: 2_000, what: `every one of ${N} deliveries counted in servedLastMinute` },
    );
    console.log(`stats of ${N} deliveries over 2 replicas visible after ${Date.now() - started} ms`);
    const byId = Object.fromEntries(campaigns.map((c) => [c.id, c.stats]));
    expect(byId.one.servedLastMinute).toBe(expected.one);
    expect(byId.two.servedLastMinute).toBe(expected.two);
    expect(byId.one.servedLastHour).toBe(expected.one);
    expect(byId.one.series).toHaveLength(5);
    expect(byId.one.series.reduce((a: number, b: number) => a + b, 0)).toBe(expected.one);
    // The other replica reads the same shared buckets.
    const fromB = (await graphqlClient(replicas[1]!.url)(STATS)).data?.campaigns as Loose[];
    expect(fromB.map((c) => c.stats.servedLastMinute)).toEqual(campaigns.map((c) => c.stats.servedLastMinute));
  });

  it("rejects a series window outside 1–1440 minutes", async () => {
    const gql = graphqlClient(replicas[0]!.url);
    expect((await gql(IMPORT, { campaigns: [campaign("windowed", "app-windowed")] })).errors).toBeUndefined();
    for (const minutes of [0, 1441]) {
      const res = await gql(`{ campaign(id: "windowed") { stats { series(minutes: ${minutes}) } } }`);
      expect(res.errors?.[0]?.extensions?.code, `series(minutes: ${minutes})`).toBe("BAD_USER_INPUT");
      expect(res.errors?.[0]?.message).toMatch(/minutes/);
    }
  });
});

describe("Campaign.stats batching (private Redis)", () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let server: RunningServer;
  let monitor: RedisMonitor | undefined;

  beforeAll(async () => {
    [database, redis] = await Promise.all([createTestDatabase(), startPrivateRedis()]);
    server = await startServer({ env: { DATABASE_URL: database.url, REDIS_URL: redis.url, ADMIN_TOKEN } });
    const campaigns = Array.from({ length: 100 }, (_, i) => campaign(`c${String(i).padStart(3, "0")}`, `app${i}`));
    expect((await graphqlClient(server.url)(IMPORT, { campaigns })).errors).toBeUndefined();
  });

  afterAll(async () => {
    monitor?.close();
    await server?.stop();
    await redis?.stop();
    await database?.drop();
  });

  /** Every command a client (not a script) sent that touches a stats bucket, while `work` runs. */
  async function statsCommands(work: () => Promise<void>): Promise<string[][]> {
    const watching = await monitorRedis(redis.url);
    monitor = watching;
    const statsArgs = (from: number) =>
      watching.commands
        .slice(from)
        .filter((command) => command.source !== "lua" && command.args.some((a) => a.includes("{stats}")))
        .map((command) => command.args);
    // A marker command before and after `work`: what MONITOR reports between them is what `work` sent.
    const marker = `{stats}:marker:${Math.random()}`;
    const probe = new Redis(redis.url);
    await probe.get(marker);
    await waitUntil(() => statsArgs(0).some((args) => args.includes(marker)), 5_000);
    const start = watching.commands.length;
    await work();
    await probe.get(`${marker}:end`);
    await waitUntil(() => statsArgs(start).some((args) => args.includes(`${marker}:end`)), 5_000);
    probe.disconnect();
    watching.close();
    monitor = undefined;
    return statsArgs(start).filter((args) => !args.some((a) => a.startsWith(marker)));
  }

  it("loads the stats of 100 campaigns with ONE Redis command", async () => {
    let campaigns: Loose[] = [];
    const commands = await statsCommands(async () => {
      const res = await graphqlClient(server.url)(STATS, { first: 100 });
      expect(res.errors).toBeUndefined();
      campaigns = res.data?.campaigns;
    });
    expect(campaigns).toHaveLength(100);
    expect(commands).toHaveLength(1);
    const [command] = commands as [string[]];
    expect(command[0]?.toLowerCase()).toBe("eval");
    // 61 minute buckets (the widest window asked: servedLastHour), then the 100 campaign ids.
    expect(command[2]).toBe("61");
    expect(command.slice(3 + 61).sort()).toEqual(campaigns.map((c) => c.id).sort());
  });

  it("counts deliveries on this replica and reads them back", async () => {
    for (let i = 0; i < 3; i++) await deliver(server.url, "app7", "android", "FR");
    const gql = graphqlClient(server.url);
    await waitUntil(
      async () =>
        (await gql(`{ campaign(id: "c007") { stats { servedLastMinute } } }`)).data?.campaign.stats.servedLastMinute ===
        3,
      2_000,
    );
  });
  it("keeps counting while Redis is down and flushes the counts once it is back", async () => {
    const gql = graphqlClient(server.url);
    const served = async () => (await gql(`{ campaign(id: "c042") { id stats { servedLastMinute } } }`)) as Loose;
    await redis.stop();
    try {
      for (let i = 0; i < 5; i++) expect((await deliver(server.url, "app42", "ios", "US")).cids).toEqual(["c042"]);
      // Flushes fail meanwhile; the stats field says so, the campaign itself still answers.
      await expect
        .poll(async () => (await served()).data?.campaign, { message: "stats null while Redis is away" })
        .toEqual({ id: "c042", stats: null });
      expect((await served()).errors?.[0]?.extensions?.code).toBe("UNAVAILABLE");
      // A flush has failed (and put its counts back) before Redis returns.
      await expect
        .poll(() => server.logs.some((l) => (l as Loose).msg?.startsWith("cannot flush delivery stats")), {
          message: "a failed flush is logged",
          timeout: 10_000,
        })
        .toBe(true);
    } finally {
      await redis.start();
    }
    // The restarted Redis is empty: exactly what was counted during the outage arrives.
    await waitUntil(async () => (await served()).data?.campaign.stats?.servedLastMinute === 5, 5_000);
  });
});

describe("without Redis (in-process stats, one replica)", () => {
  let database: TestDatabase;
  let server: RunningServer;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startServer({ env: { DATABASE_URL: database.url, REDIS_URL: "", ADMIN_TOKEN } });
  });

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("serves the same stats API from in-process counts", async () => {
    const gql = graphqlClient(server.url);
    expect((await gql(IMPORT, { campaigns: [campaign("solo", "solo-app")] })).errors).toBeUndefined();
    for (let i = 0; i < 4; i++) await deliver(server.url, "solo-app", "ios", "US");
    let stats: Loose = {};
    await waitUntil(async () => {
      stats = (await gql(`{ campaign(id: "solo") { stats { servedLastMinute servedLastHour series } } }`)).data
        ?.campaign.stats;
      return stats?.servedLastMinute === 4;
    }, 2_000);
    expect(stats.servedLastHour).toBe(4);
    expect(stats.series).toHaveLength(60);
  });
});

// Redis taken away (a private redis-server this test started, killed by pid) while changes are made:
// delivery never fails, mutations still commit, and every replica converges from the change log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type PrivateRedis, startPrivateRedis, uniquePrefix } from "../helpers/redis.ts";
import { type ChildServer, startServerProcess, waitUntil } from "../helpers/server.ts";

let database: TestDatabase;
let redis: PrivateRedis;
let a: ChildServer;
let b: ChildServer;

const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`;
const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

beforeAll(async () => {
  database = await createTestDatabase();
  redis = await startPrivateRedis();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_PREFIX: uniquePrefix("outage"),
    ADMIN_TOKEN,
    PROPAGATION_TIMEOUT_MS: "1500",
  };
  [a, b] = await Promise.all([
    startServerProcess({ env: { ...env, REPLICA_ID: "A" } }),
    startServerProcess({ env: { ...env, REPLICA_ID: "B" } }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
  await database?.drop();
});

describe("Redis outage", () => {
  it("keeps delivering, keeps committing, and converges when Redis returns", async () => {
    const gql = graphqlClient(a.url);
    const created = await gql(CREATE, {
      input: {
        id: "before",
        name: "before",
        imageUrl: "https://x/b.png",
        cta: "Go",
        targeting: { include: { apps: ["app"] } },
      },
    });
    expect(created.data?.createCampaign.propagated).toBe(true);

    // Devices keep calling both replicas for the whole outage.
    let failures = 0;
    let answered = 0;
    let polling = true;
    const devices = (async () => {
      while (polling) {
        for (const server of [a, b]) {
          const res = await fetch(`${server.url}/v1/delivery?app=app&os=ios&country=US`).catch(() => null);
          if (res && (res.status === 200 || res.status === 204)) answered++;
          else failures++;
          await res?.arrayBuffer();
        }
      }
    })();

    await redis.stop();
    const duringOutage: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await gql(CREATE, {
        input: {
          id: `during${i}`,
          name: "during",
          imageUrl: "https://x/d.png",
          cta: "Go",
          targeting: { include: { apps: ["app"] } },
        },
      });
      expect(res.errors).toBeUndefined();
      duringOutage.push(res.data?.createCampaign.propagated);
    }
    const version = await latestVersion();
    // Without the bus, B still converges from the log (it polls it every second).
    await waitUntil(async () => (await deliver(b.url, "app", "ios", "US")).version === version, 5_000);
    // Deliberate wait: the outage goes on a while after B converged.
    await new Promise((r) => setTimeout(r, 1_000));

    await redis.start();
    const res = await gql(CREATE, {
      input: {
        id: "after",
        name: "after",
        imageUrl: "https://x/a.png",
        cta: "Go",
        targeting: { include: { apps: ["app"] } },
      },
    });
    expect(res.errors).toBeUndefined();
    const finalVersion = await latestVersion();
    await waitUntil(
      async () =>
        (await Promise.all([a, b].map((s) => deliver(s.url, "app", "ios", "US")))).every(
          (d) => d.version === finalVersion,
        ),
      5_000,
    );
    polling = false;
    await devices;

    const expected = ["after", "before", "during0", "during1", "during2"];
    for (const server of [a, b]) expect((await deliver(server.url, "app", "ios", "US")).cids).toEqual(expected);
    expect(failures).toBe(0);
    expect(answered).toBeGreaterThan(20);
    // Once Redis is back and both replicas report again, mutations are confirmed everywhere again.
    await waitUntil(async () => {
      const status = await gql("{ indexStatus { replicas { id version } } }");
      return status.data?.indexStatus.replicas.length === 2;
    }, 5_000);
    console.log(
      `outage: ${answered} deliveries answered, ${failures} failed; propagated during outage: ${duringOutage}`,
    );
  });
});

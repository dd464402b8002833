// REDIS_CLUSTER=true: the fan-out runs on a Redis Cluster (a private 3-master cluster the test starts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type PrivateRedisCluster, startPrivateRedisCluster, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer, waitUntil } from "../helpers/server.ts";

let database: TestDatabase;
let cluster: PrivateRedisCluster;
const replicas: RunningServer[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  cluster = await startPrivateRedisCluster();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: cluster.url,
    REDIS_CLUSTER: "true",
    REDIS_PREFIX: uniquePrefix("cluster"),
    ADMIN_TOKEN,
    INDEX_POLL_MS: "5000", // changes must arrive through the cluster, not the log poll
  };
  replicas.push(...(await Promise.all(["A", "B"].map((id) => startServer({ env: { ...env, REPLICA_ID: id } })))));
  await waitUntil(async () => {
    const res = await graphqlClient(replicas[0]!.url)("{ indexStatus { replicas { id } } }");
    return res.data?.indexStatus.replicas.length === 2;
  }, 15_000);
}, 90_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  await cluster?.stop();
  await database?.drop();
});

describe("Redis Cluster", () => {
  it("propagates a mutation to every replica through the cluster", async () => {
    const res = await graphqlClient(replicas[0]!.url)(
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`,
      { input: { id: "viacluster", name: "x", imageUrl: "https://x/x.png", cta: "Go" } },
    );
    expect(res.data?.createCampaign.propagated).toBe(true);
    const answer = await deliver(replicas[1]!.url, "app", "ios", "US");
    expect(answer.version).toBe(res.data?.createCampaign.version);
    expect(answer.cids).toEqual(["viacluster"]);
  });
});

// The deployment topology without Docker: a Postgres primary with a real streaming read replica, three
// Bullseye replicas reading their index from the read replica, and a small load balancer in front.
// While the read replica lags (replay paused), read-your-write still holds through the balancer: a
// replica that finds the read replica behind the version it needs reads the primary instead, for its
// index and for GraphQL queries alike; once the read replica has caught up, queries read it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployMigrations } from "../../src/db/migrate.ts";
import { ADMIN_TOKEN, graphqlClient } from "../helpers/graphql.ts";
import { type PostgresPair, sql, startPrimaryWithStandby } from "../helpers/postgres-cluster.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type ChildServer, startServerProcess, waitUntil } from "../helpers/server.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

let pair: PostgresPair;
/** Between the replicas and the read replica, so a test can take the read replica away. */
let standbyProxy: TcpProxy;
const replicas: ChildServer[] = [];
let balancer: http.Server;
let balancerUrl: string;

/** Round-robin HTTP balancer, one upstream per request. */
function startBalancer(upstreams: string[]): Promise<http.Server> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const target = new URL(req.url ?? "/", upstreams[next++ % upstreams.length]);
    const upstream = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/** Pauses replay on the standby and waits until it has really stopped (the request takes effect later). */
async function pauseReplay(): Promise<void> {
  await sql(pair.standbyUrl("bullseye"), "SELECT pg_wal_replay_pause()");
  await waitUntil(async () => {
    const [row] = await sql<{ state: string }>(
      pair.standbyUrl("bullseye"),
      "SELECT pg_get_wal_replay_pause_state() AS state",
    );
    return row?.state === "paused";
  }, 5_000);
}

/** Creates a campaign for `app` through the balancer: each test has its own, so none reads another's. */
async function createCampaign(id: string, app: string): Promise<{ version: number; propagated: boolean }> {
  const res = await graphqlClient(balancerUrl)(
    `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`,
    { input: { id, name: id, imageUrl: `https://x/${id}.png`, cta: "Go", targeting: { include: { apps: [app] } } } },
  );
  expect(res.errors).toBeUndefined();
  return res.data?.createCampaign;
}

/** Waits until the read replica has replayed everything the primary committed. */
async function standbyCaughtUp(): Promise<void> {
  const [primary] = await sql<{ version: number }>(pair.primaryUrl("bullseye"), "SELECT version FROM change_counter");
  await waitUntil(
    async () => {
      const [standby] = await sql<{ version: number }>(
        pair.standbyUrl("bullseye"),
        "SELECT version FROM change_counter",
      );
      return standby?.version === primary?.version;
    },
    { timeoutMs: 10_000, what: `the read replica at version ${primary?.version}` },
  );
}

/** bullseye_graphql_reads_total summed over the three replicas, by database. */
async function graphqlReads(): Promise<{ primary: number; replica: number }> {
  const totals = { primary: 0, replica: 0 };
  for (const replica of replicas) {
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    for (const match of text.matchAll(/^bullseye_graphql_reads_total\{database="(primary|replica)"\} (\d+)/gm)) {
      totals[match[1] as "primary" | "replica"] += Number(match[2]);
    }
  }
  return totals;
}

beforeAll(async () => {
  pair = await startPrimaryWithStandby();
  await sql(pair.primaryUrl("postgres"), "CREATE DATABASE bullseye");
  await deployMigrations(pair.primaryUrl("bullseye"));
  await waitUntil(
    async () => (await sql(pair.standbyUrl("bullseye"), "SELECT 1 FROM change_counter")).length === 1,
    15_000,
  );
  standbyProxy = await startTcpProxy(pair.standbyPort);
  const viaProxy = new URL(pair.standbyUrl("bullseye"));
  viaProxy.port = String(standbyProxy.port);
  const env = {
    DATABASE_URL: pair.primaryUrl("bullseye"),
    DATABASE_REPLICA_URL: viaProxy.toString(),
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("topology"),
    ADMIN_TOKEN,
    PROPAGATION_TIMEOUT_MS: "3000",
  };
  replicas.push(
    ...(await Promise.all(["r1", "r2", "r3"].map((id) => startServerProcess({ env: { ...env, REPLICA_ID: id } })))),
  );
  balancer = await startBalancer(replicas.map((r) => r.url));
  balancerUrl = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;
  await waitUntil(async () => {
    const res = await graphqlClient(replicas[0]!.url)("{ indexStatus { replicas { id } } }");
    return res.data?.indexStatus.replicas.length === 3;
  }, 10_000);
}, 120_000);

afterAll(async () => {
  balancer?.close();
  await Promise.all(replicas.map((r) => r.stop()));
  await standbyProxy?.close();
  await pair?.stop();
});

describe("primary + lagging read replica + 3 replicas behind a balancer", () => {
  it("keeps read-your-write through the balancer while the read replica is paused", async () => {
    await pauseReplay();
    try {
      const { version, propagated } = await createCampaign("fresh", "app-fresh");
      expect(propagated).toBe(true);
      // The read replica really is behind: the change is not there.
      const [standby] = await sql<{ version: number }>(
        pair.standbyUrl("bullseye"),
        "SELECT version FROM change_counter",
      );
      expect(standby?.version).toBeLessThan(version);
      // Every replica, reached through the balancer, serves it on the very next request...
      for (let i = 0; i < 9; i++) {
        const answer = await fetch(`${balancerUrl}/v1/delivery?app=app-fresh&os=ios&country=US`);
        expect(Number(answer.headers.get("x-index-version"))).toBeGreaterThanOrEqual(version);
        expect(((await answer.json()) as { cid: string }[]).map((a) => a.cid)).toEqual(["fresh"]);
      }
      // ...and returns it to a GraphQL query (read from the primary, the read replica being behind).
      const before = await graphqlReads();
      for (let i = 0; i < 3; i++) {
        const read = await graphqlClient(balancerUrl)(`{ campaign(id: "fresh") { id name } }`);
        expect(read.data?.campaign).toEqual({ id: "fresh", name: "fresh" });
      }
      const after = await graphqlReads();
      expect(after.primary - before.primary).toBe(3);
      expect(after.replica - before.replica).toBe(0);
    } finally {
      await sql(pair.standbyUrl("bullseye"), "SELECT pg_wal_replay_resume()");
    }
  });

  it("reads GraphQL queries from the read replica once it has replayed what the replicas serve", async () => {
    await createCampaign("renamed", "app-renamed");
    await standbyCaughtUp();
    await pauseReplay();
    try {
      // An edit nobody announced, made while replay is paused: only the primary has it.
      await sql(pair.primaryUrl("bullseye"), "UPDATE campaign SET name = 'Renamed' WHERE id = 'renamed'");
      const before = await graphqlReads();
      for (let i = 0; i < 3; i++) {
        const read = await graphqlClient(balancerUrl)(`{ campaign(id: "renamed") { name } }`);
        expect(read.data?.campaign).toEqual({ name: "renamed" }); // the read replica's state
      }
      const after = await graphqlReads();
      expect(after.replica - before.replica).toBe(3);
      expect(after.primary - before.primary).toBe(0);
    } finally {
      await sql(pair.standbyUrl("bullseye"), "SELECT pg_wal_replay_resume()");
    }
    await waitUntil(async () => {
      const read = await graphqlClient(balancerUrl)(`{ campaign(id: "renamed") { name } }`);
      return read.data?.campaign?.name === "Renamed";
    }, 5_000);
  });

  it("loads the index from the read replica: a direct SQL edit waits for replay", async () => {
    await createCampaign("excluded-later", "app-excluded");
    await standbyCaughtUp();
    await pauseReplay();
    try {
      await sql(
        pair.primaryUrl("bullseye"),
        "INSERT INTO targeting_rule VALUES ('excluded-later', 'COUNTRY', 'EXCLUDE', 'US')",
      );
      // Nobody announced this version, and the replicas poll the (paused) read replica: still served.
      // Deliberate wait: "not yet served" shows only over several of the replicas' polls.
      await new Promise((r) => setTimeout(r, 1_500));
      const stale = await fetch(`${balancerUrl}/v1/delivery?app=app-excluded&os=ios&country=US`);
      expect(stale.status).toBe(200);
      await stale.arrayBuffer();
    } finally {
      await sql(pair.standbyUrl("bullseye"), "SELECT pg_wal_replay_resume()");
    }
    const [primary] = await sql<{ version: number }>(pair.primaryUrl("bullseye"), "SELECT version FROM change_counter");
    await waitUntil(async () => {
      const answers = await Promise.all(
        replicas.map((r) => fetch(`${r.url}/v1/delivery?app=app-excluded&os=ios&country=US`)),
      );
      return answers.every((a) => a.status === 204 && Number(a.headers.get("x-index-version")) === primary?.version);
    }, 5_000);
  });

  it("reads the primary while the read replica is unreachable, and the read replica again once it is back", async () => {
    await createCampaign("reachable", "app-reachable");
    await standbyProxy.cut();
    try {
      const before = await graphqlReads();
      for (let i = 0; i < 6; i++) {
        const read = await graphqlClient(balancerUrl)(`{ campaign(id: "reachable") { id } }`);
        expect(read.errors).toBeUndefined();
        expect(read.data?.campaign).toEqual({ id: "reachable" });
      }
      const after = await graphqlReads();
      expect(after.primary - before.primary).toBe(6);
      expect(after.replica - before.replica).toBe(0);
    } finally {
      await standbyProxy.restore();
    }
    await waitUntil(async () => {
      const before = await graphqlReads();
      await Promise.all(replicas.map((r) => graphqlClient(r.url)(`{ campaign(id: "reachable") { id } }`)));
      return (await graphqlReads()).replica - before.replica === 3;
    }, 10_000);
  });
});

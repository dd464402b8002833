// ruleChanges subscriptions share one change-log tail per replica: idle subscribers cost the database
// nothing, a change is read once whatever the number of subscribers and reaches every one of them,
// and open subscriptions are bounded per token and per replica.
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, graphqlClient, type Loose, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type ChildServer, startServerProcess } from "../helpers/server.ts";

const SUBSCRIPTION = "subscription($since: Int) { ruleChanges(sinceVersion: $since) { version kind campaignId } }";
const SUBSCRIBERS = 200;

let database: TestDatabase;
let server: ChildServer;
const clients: Client[] = [];

/** change_log_item reads the server logged (LOG_SQL at debug). */
const logReads = () =>
  server.logs.filter((line) => /FROM "public"\."change_log_item"/.test(String((line as Loose).sql ?? ""))).length;

function wsClient(target: ChildServer, token: string): Client {
  const client = createClient({
    url: `${target.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  clients.push(client);
  return client;
}

interface Sub {
  versions: number[];
  errors: Loose[];
  ended: boolean;
  stop: () => void;
}

function subscribe(client: Client, since?: number): Sub {
  const sub: Sub = { versions: [], errors: [], ended: false, stop: () => {} };
  sub.stop = client.subscribe<{ ruleChanges: { version: number } }>(
    { query: SUBSCRIPTION, variables: since === undefined ? {} : { since } },
    {
      next: (result) => {
        if (result.errors) sub.errors.push(...([...result.errors] as Loose[]));
        if (result.data) sub.versions.push(result.data.ruleChanges.version);
      },
      error: (error) => {
        if (Array.isArray(error)) sub.errors.push(...(error as Loose[]));
        sub.ended = true;
      },
      complete: () => {
        sub.ended = true;
      },
    },
  );
  return sub;
}

async function createCampaign(id: string): Promise<number> {
  const res = await graphqlClient(server.url)(
    `mutation($id: ID!) { createCampaign(input: { id: $id, name: "N", imageUrl: "https://x.example/n.png", cta: "Go" }) { version } }`,
    { id },
  );
  expect(res.errors).toBeUndefined();
  return res.data?.createCampaign.version;
}

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServerProcess({
    env: { DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN, LOG_SQL: "true", LOG_LEVEL: "debug" },
  });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await server?.stop();
  await database?.drop();
});

describe("one change-log tail per replica", () => {
  it(`${SUBSCRIBERS} subscribers: idle costs no log reads, one change is read once and reaches all`, async () => {
    const first = await createCampaign("first");
    // One WebSocket multiplexes many subscriptions (graphql-ws), plus a second socket: all on one replica.
    const [one, two] = [wsClient(server, ADMIN_TOKEN), wsClient(server, VIEWER_TOKEN)];
    const beforeReplay = logReads();
    const subs = Array.from({ length: SUBSCRIBERS }, (_, i) => subscribe(i % 2 ? one : two, first - 1));
    await expect
      .poll(() => subs.filter((s) => s.versions.includes(first)).length, {
        message: `every subscriber replays v${first}`,
        timeout: 15_000,
      })
      .toBe(SUBSCRIBERS);
    // Subscribers asking for the same versions at once share the query that reads them.
    const replayReads = logReads() - beforeReplay;
    console.log(`${SUBSCRIBERS} subscribers replaying from v${first - 1}: ${replayReads} change-log read(s)`);
    expect(replayReads).toBeLessThan(SUBSCRIBERS / 4);

    // A replay hands over to the live tail after its last event reached the client (one more read,
    // and its log line comes through the child's stdout later still): idle starts once reads stop.
    let previous = -1;
    await expect
      .poll(
        () => {
          const now = logReads();
          const settled = now === previous;
          previous = now;
          return settled;
        },
        { message: "no log read over 500 ms after the replays", interval: 500, timeout: 15_000 },
      )
      .toBe(true);
    // Idle: no change, no read of the log, however many subscribers wait.
    const idleFrom = logReads();
    const pgBefore = await commits();
    // Deliberate wait: idleness (no reads, no transactions) shows only over a period.
    await new Promise((r) => setTimeout(r, 2_000));
    const pgAfter = await commits();
    expect(logReads() - idleFrom, "log reads while idle").toBe(0);
    console.log(
      `${SUBSCRIBERS} idle subscriptions: ${((pgAfter - pgBefore) / 2).toFixed(1)} transactions/s on the database`,
    );

    const before = logReads();
    const version = await createCampaign("second");
    await expect
      .poll(() => subs.filter((s) => s.versions.at(-1) === version).length, {
        message: `every subscriber receives v${version}`,
        timeout: 10_000,
      })
      .toBe(SUBSCRIBERS);
    const reads = logReads() - before;
    console.log(`one change to ${SUBSCRIBERS} subscribers: ${reads} change-log read(s)`);
    expect(reads).toBeLessThanOrEqual(2);
    for (const sub of subs) expect(sub.versions).toEqual([first, version]);
    for (const sub of subs) sub.stop();
    // A hundred subscriptions of one token listen on its revocation signal: no leak warning for that.
    expect(server.logs.filter((line) => String(line).includes("MaxListenersExceededWarning"))).toEqual([]);
  });
});

async function commits(): Promise<number> {
  const [row] = await database.sql<{ n: string }>(
    "SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()",
  );
  return Number(row?.n ?? 0);
}

describe("subscription limits", () => {
  let limited: ChildServer;

  beforeAll(async () => {
    limited = await startServerProcess({
      env: {
        DATABASE_URL: database.url,
        ADMIN_TOKEN,
        VIEWER_TOKEN,
        SUBSCRIPTIONS_PER_TOKEN_MAX: "3",
        SUBSCRIPTIONS_MAX: "5",
      },
    });
  });

  afterAll(async () => {
    await limited?.stop();
  });

  it("per token, then per replica, with coded errors; a closed subscription frees its slot", async () => {
    const viewer = wsClient(limited, VIEWER_TOKEN);
    const admin = wsClient(limited, ADMIN_TOKEN);
    const viewers = [subscribe(viewer), subscribe(viewer), subscribe(viewer)];
    const fourth = subscribe(viewer);
    await expect.poll(() => fourth.ended, { message: "the viewer's 4th subscription is refused" }).toBe(true);
    expect(fourth.errors[0]?.extensions).toMatchObject({ code: "TOO_MANY_SUBSCRIPTIONS", limit: 3 });
    expect(viewers.every((s) => !s.ended)).toBe(true);

    const admins = [subscribe(admin), subscribe(admin)];
    const sixth = subscribe(admin);
    await expect.poll(() => sixth.ended, { message: "the replica's 6th subscription is refused" }).toBe(true);
    expect(sixth.errors[0]?.extensions).toMatchObject({ code: "UNAVAILABLE", retryAfterMs: 1000 });
    expect(admins.every((s) => !s.ended)).toBe(true);
    const metrics = await (await fetch(`${limited.url}/metrics`)).text();
    expect(metrics).toMatch(/^bullseye_graphql_subscriptions 5$/m);

    viewers[0]?.stop();
    const again = subscribe(viewer);
    const version = await (async () => {
      const res = await graphqlClient(limited.url)(
        `mutation { createCampaign(input: { id: "limits", name: "L", imageUrl: "https://x.example/l.png", cta: "Go" }) { version } }`,
      );
      return res.data?.createCampaign.version as number;
    })();
    await expect
      .poll(() => again.versions.at(-1), { message: `the freed slot serves a new subscriber (v${version})` })
      .toBe(version);
    expect(again.errors).toEqual([]);
  });
});

// The ruleChanges subscription (CONTRACT §4) over SSE and WebSocket, against real server processes
// sharing Postgres and Redis: replay after sinceVersion hands over to live with no gap and no
// duplicate while writes keep coming, across replicas, through a Redis outage; auth; and a closed
// subscription stops reading the log.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, graphqlClient, type Loose, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type PrivateRedis, SHARED_REDIS_URL, startPrivateRedis, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { subscribeSse as openSse, subscribeWs as openWs, type Subscription } from "../helpers/subscribe.ts";

const SUBSCRIPTION = `subscription($since: Int) {
  ruleChanges(sinceVersion: $since) { version kind campaignId categoryId at } }`;
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version } }`;
const UPSERT_CATEGORY = `mutation($input: CategoryInput!) { upsertCategory(input: $input) { version } }`;
const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version } }`;

/**
 * How long any one expected event may take to arrive: an upper bound, not a speed target (four test
 * files share two cores in CI, and a stream keeping up with hundreds of writes fell 5 s behind once).
 */
const EVENT_TIMEOUT_MS = 15_000;
/** History written before the servers start: more than one page (200 versions) of replay. */
const HISTORY_VERSIONS = 230;

interface RuleChange {
  version: number;
  kind: string;
  campaignId: string | null;
  categoryId: string | null;
  at: string;
}

let database: TestDatabase;
let prefix: string;
const servers: RunningServer[] = [];
/** Replicas A and B: shared Redis, one prefix, one database. B logs its SQL (for the leak check). */
let A: RunningServer;
let B: RunningServer;

const baseEnv = () => ({ DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN });

async function start(id: string, env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer({ env: { ...baseEnv(), REPLICA_ID: id, ...env } });
  servers.push(server);
  return server;
}

const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

/** What a subscriber must see after `since`: the change log, in (version, id) order. */
async function logAfter(since: number, upTo = 2 ** 31 - 1) {
  const rows = await database.sql<{
    version: number;
    kind: string;
    campaign_id: string | null;
    category_id: string | null;
  }>(
    "SELECT version, kind, campaign_id, category_id FROM change_log_item WHERE version > $1 AND version <= $2 ORDER BY version, id",
    [since, upTo],
  );
  return rows.map((r) => ({ version: r.version, kind: r.kind, campaignId: r.campaign_id, categoryId: r.category_id }));
}

const seen = (changes: RuleChange[]) =>
  changes.map(({ version, kind, campaignId, categoryId }) => ({ version, kind, campaignId, categoryId }));

let nextId = 0;
const uid = (label: string) => `${label}-${(nextId++).toString().padStart(4, "0")}`;
const campaign = (id: string) => ({ id, name: id, imageUrl: `https://cdn.example/${id}.png`, cta: "Go" });

/** One mutation through `via`; returns the version it committed. */
async function mutate(via: RunningServer, query: string, variables: Loose): Promise<number> {
  const res = await graphqlClient(via.url)(query, variables);
  if (res.errors) throw new Error(`mutation failed: ${JSON.stringify(res.errors)}`);
  const [change] = Object.values(res.data ?? {}) as { version: number }[];
  return change!.version;
}

const createCampaign = (via: RunningServer, label = "c") => mutate(via, CREATE, { input: campaign(uid(label)) });

/** A mix of writes: mostly single campaigns, some categories, an import (one version, several items). */
function someWrite(via: RunningServer, i: number): Promise<number> {
  if (i % 7 === 3) {
    const id = uid("cat");
    return mutate(via, UPSERT_CATEGORY, { input: { id, name: id, apps: [`app.${id}`] } });
  }
  if (i % 11 === 5) return mutate(via, IMPORT, { campaigns: [1, 2, 3].map(() => campaign(uid("imp"))) });
  return createCampaign(via);
}

/**
 * `count` writes through `via`, two at a time (concurrent transactions), calling `onProgress` with how
 * many are done so a test can subscribe in the middle.
 */
async function writeLoop(via: RunningServer, count: number, onProgress?: (done: number) => void) {
  let started = 0;
  let done = 0;
  const worker = async () => {
    while (started < count) {
      const i = started++;
      await someWrite(via, i);
      onProgress?.(++done);
    }
  };
  await Promise.all([worker(), worker()]);
}

// ---------------------------------------------------------------------------------------------------
// Subscribers: one shape for SSE and WebSocket.

type Feed = Subscription<RuleChange> & { status?: number };

const feeds: Feed[] = [];

/** Resolves once a change with version ≥ `version` arrived. */
const reach = (feed: Feed, version: number, timeoutMs = EVENT_TIMEOUT_MS) =>
  feed.until((f) => (f.data.at(-1)?.version ?? 0) >= version, `version ${version}`, timeoutMs);

/** GraphQL over SSE (tests/helpers/subscribe.ts); resolves once the response headers arrived. */
async function subscribeSse(server: RunningServer, token: string | null, since?: number): Promise<Feed> {
  const feed = await openSse<RuleChange>(server.url, token, SUBSCRIPTION, since === undefined ? {} : { since });
  feeds.push(feed);
  expect(feed.contentType).toMatch(/^text\/event-stream/);
  return feed;
}

/** The graphql-ws client; the token in connection_init's payload, or in the upgrade request's header. */
function subscribeWs(
  server: RunningServer,
  token: string | null,
  since?: number,
  options: { tokenIn?: "connectionParams" | "header"; connectionParams?: Loose; query?: string } = {},
): Feed {
  const variables = since === undefined ? {} : { since };
  const feed = openWs<RuleChange>(server.url, token, options.query ?? SUBSCRIPTION, variables, options);
  feeds.push(feed);
  return feed;
}

const transports = {
  sse: (server: RunningServer, token: string | null, since?: number) => subscribeSse(server, token, since),
  ws: async (server: RunningServer, token: string | null, since?: number) => subscribeWs(server, token, since),
};

/**
 * Ends a comparison without sleeping: one more write, and once the feed shows it, the feed must be
 * exactly the log after `since` up to that write (so a late duplicate or a hole cannot hide).
 */
async function expectExactlyTheLog(feed: Feed, since: number, writeVia: RunningServer) {
  const sentinel = await createCampaign(writeVia, "sentinel");
  await reach(feed, sentinel);
  expect(feed.errors).toEqual([]);
  expect(seen(feed.data)).toEqual(await logAfter(since, sentinel));
  expect(feed.data.at(-1)?.version).toBe(sentinel);
  for (const change of feed.data) expect(Number.isNaN(Date.parse(change.at))).toBe(false);
}

// ---------------------------------------------------------------------------------------------------

beforeAll(async () => {
  database = await createTestDatabase();
  prefix = uniquePrefix("subscriptions");
  // A history longer than one replay page, written directly in SQL (versioned like any API write).
  for (let i = 0; i < HISTORY_VERSIONS; i++) {
    await database.sql(`INSERT INTO category (id, name) VALUES ($1, $1)`, [`history-${i}`]);
  }
  const shared = { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix };
  [A, B] = await Promise.all([start("A", shared), start("B", { ...shared, LOG_SQL: "true", LOG_LEVEL: "debug" })]);
});

afterAll(async () => {
  await Promise.allSettled(feeds.map((feed) => feed.close()));
  await Promise.allSettled(servers.map((server) => server.stop()));
  await database?.drop();
});

describe.each(["sse", "ws"] as const)("ruleChanges over %s", (transport) => {
  it("replays the log after sinceVersion, then streams live, while writes keep coming: no gap, no duplicate", async () => {
    // Replay from inside the SQL history: more than one page (200 versions) is handed over.
    const since = transport === "sse" ? 5 : 17;
    let subscribed: Promise<Feed> | undefined;
    await writeLoop(A, 30, (done) => {
      // Subscribe in the middle of the writes: replay and live overlap.
      if (done === 10) subscribed = transports[transport](A, ADMIN_TOKEN, since);
    });
    const feed = await subscribed!;
    const last = await latestVersion();
    await reach(feed, last);
    await writeLoop(A, 5); // and keep going after the replay caught up
    await expectExactlyTheLog(feed, since, A);
    expect(feed.data[0]?.version).toBe(since + 1);
    await feed.close();
  });

  it("on replica B shows every change written through replica A", async () => {
    const since = await latestVersion();
    const feed = await transports[transport](B, VIEWER_TOKEN, since);
    await writeLoop(A, 20);
    await expectExactlyTheLog(feed, since, A);
    await feed.close();
  });

  it("without sinceVersion, streams only the changes made after subscribing", async () => {
    await createCampaign(A, "before");
    const before = await latestVersion();
    const feed = await transports[transport](A, ADMIN_TOKEN);
    if (transport === "sse") {
      // The response headers mean the subscription is established: everything after is streamed.
      await writeLoop(A, 3);
      await expectExactlyTheLog(feed, before, A);
    } else {
      // graphql-ws does not acknowledge a subscription: write until the first change shows up, then
      // the stream must be contiguous from there, and nothing from before subscribing.
      let first: number | undefined;
      for (let i = 0; i < 20 && first === undefined; i++) {
        await createCampaign(A, "probe");
        await feed.until((f) => f.data.length > 0, "a first change", 300).catch(() => undefined);
        first = feed.data[0]?.version;
      }
      expect(first).toBeGreaterThan(before);
      await expectExactlyTheLog(feed, first! - 1, A);
    }
    await feed.close();
  });
});

describe("authentication", () => {
  it.each([
    ["no token", null],
    ["an unknown token", "not-a-token-of-this-deployment"],
  ])("over SSE, %s fails with UNAUTHENTICATED (401) and no change", async (_label, token) => {
    const feed = await subscribeSse(A, token, 0);
    await feed.until((f) => f.ended, "the stream to end");
    expect(feed.status).toBe(401);
    expect(feed.errors.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
    expect(feed.errors[0]?.extensions?.http).toBeUndefined();
    expect(feed.data).toEqual([]);
  });

  it.each([
    ["no token", null, "connectionParams"],
    ["an unknown token", "not-a-token-of-this-deployment", "connectionParams"],
    ["an unknown token in the upgrade header", "not-a-token-of-this-deployment", "header"],
    ["the viewer token in the upgrade header only (connection_init must carry it)", VIEWER_TOKEN, "header"],
  ] as const)(
    "over WebSocket, %s: the socket is closed 4401 at connection_init, no change",
    async (_label, token, tokenIn) => {
      const feed = subscribeWs(A, token, 0, { tokenIn });
      await feed.until((f) => f.ended, "the socket to close");
      expect((feed.failure as { code?: number } | undefined)?.code).toBe(4401);
      expect(feed.data).toEqual([]);
      await feed.close();
    },
  );

  it("a non-string authorization in connection_init is no token (4401)", async () => {
    const feed = subscribeWs(A, null, 0, { connectionParams: { authorization: 42 } });
    await feed.until((f) => f.ended, "the socket to close");
    expect((feed.failure as { code?: number } | undefined)?.code).toBe(4401);
    await feed.close();
  });

  it("the viewer token subscribes over SSE and over WebSocket (in connection_init)", async () => {
    const since = (await latestVersion()) - 1;
    const feeds = [await subscribeSse(A, VIEWER_TOKEN, since), subscribeWs(A, VIEWER_TOKEN, since)];
    for (const feed of feeds) {
      await reach(feed, since + 1);
      expect(feed.errors).toEqual([]);
      expect(feed.status ?? 200).toBe(200);
    }
    await Promise.all(feeds.map((feed) => feed.close()));
  });

  it("a syntax error over WebSocket is that operation's error, not a dropped connection", async () => {
    const feed = subscribeWs(A, ADMIN_TOKEN, 0, { query: "subscription { ruleChanges(" });
    await feed.until((f) => f.ended, "the subscription to fail");
    expect(feed.failure).toBeUndefined();
    expect(feed.errors).toHaveLength(1);
    expect(feed.errors[0]?.message).toMatch(/Syntax Error/);
    await feed.close();
  });

  it("a bad sinceVersion is BAD_USER_INPUT", async () => {
    const sse = await subscribeSse(A, ADMIN_TOKEN, -1);
    const ws = subscribeWs(A, ADMIN_TOKEN, -1);
    for (const feed of [sse, ws]) {
      await feed.until((f) => f.ended, "the subscription to fail");
      expect(feed.errors.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
      expect(feed.data).toEqual([]);
    }
    await ws.close();
  });
});

describe("a closed subscription", () => {
  it("stops reading the change log (SSE and WebSocket)", async () => {
    const since = (await latestVersion()) - 1;
    const sse = await subscribeSse(B, ADMIN_TOKEN, since);
    const ws = subscribeWs(B, ADMIN_TOKEN, since);
    await Promise.all([reach(sse, since + 1), reach(ws, since + 1)]);
    // Both are now idle, re-reading the log every second; closing must end that at once.
    await Promise.all([sse.close(), ws.close()]);
    const logReads = () =>
      B.logs.filter((line) => /FROM "public"\."change_log_item"/.test(String((line as Loose).sql ?? ""))).length;
    // Deliberate waits: the absence of a periodic read shows only over a period longer than its interval.
    await new Promise((r) => setTimeout(r, 300));
    const after = logReads();
    await new Promise((r) => setTimeout(r, 2_200));
    expect(logReads() - after).toBe(0);
  });
});

describe("with the subscriber's replica cut off from Redis", () => {
  let redis: PrivateRedis;
  let C: RunningServer;
  let D: RunningServer;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    // A short propagation timeout: while Redis is down, C waits for D's acknowledgement in vain.
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: prefix, PROPAGATION_TIMEOUT_MS: "300" };
    [C, D] = await Promise.all([start("C", env), start("D", env)]);
  });

  afterAll(async () => {
    await Promise.allSettled([C?.stop(), D?.stop()]);
    await redis?.stop();
  });

  it("keeps streaming every version from the log, and after Redis is back", async () => {
    const since = await latestVersion();
    const sse = await subscribeSse(D, ADMIN_TOKEN, since);
    const ws = subscribeWs(D, ADMIN_TOKEN, since);
    await writeLoop(C, 3);
    const up = await latestVersion();
    await Promise.all([reach(sse, up), reach(ws, up)]);

    await redis.stop();
    try {
      await writeLoop(C, 6);
      const down = await latestVersion();
      // An import's version has many items, streamed one by one: wait for all of them.
      const expected = await logAfter(since, down);
      for (const feed of [sse, ws]) {
        await expect.poll(() => seen(feed.data), { message: `every item up to v${down}` }).toEqual(expected);
      }
    } finally {
      await redis.start();
    }
    // Redis is back: the streams carry on.
    await writeLoop(C, 3);
    for (const feed of [sse, ws]) await expectExactlyTheLog(feed, since, C);
    await Promise.all([sse.close(), ws.close()]);
  });
});

describe("on SIGTERM", () => {
  it("ends open subscriptions cleanly (SSE complete, WebSocket close 1001), then exits 0", async () => {
    const E = await start("E", { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix, SHUTDOWN_DRAIN_MS: "300" });
    const since = await latestVersion();
    const sse = await subscribeSse(E, ADMIN_TOKEN, since);
    const ws = subscribeWs(E, ADMIN_TOKEN, since);
    await writeLoop(A, 1);
    const written = await latestVersion();
    await Promise.all([reach(sse, written), reach(ws, written)]);

    const exitCode = E.stop("SIGTERM");
    await Promise.all([sse.until((f) => f.ended, "SSE end"), ws.until((f) => f.ended, "WebSocket end")]);
    expect(sse.completed).toBe(true);
    expect(sse.failure).toBeUndefined();
    // graphql-ws reports the server's close frame: 1001 "going away", not a dropped connection (1006).
    expect((ws.failure as { code?: number } | undefined)?.code).toBe(1001);
    expect(await exitCode).toBe(0);
  });
});

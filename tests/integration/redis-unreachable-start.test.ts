// A replica started while Redis is unreachable starts, is ready (degraded; /readyz names Redis and its
// URL without credentials), serves delivery and GraphQL, and uses Redis as soon as it answers: a
// change made through another replica then reaches it through Redis (its log poll is a minute away).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { freePort, type PrivateRedis, startPrivateRedis, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const PASSWORD = "s3cret-redis-password";
const PREFIX = uniquePrefix("redis-late");
let database: TestDatabase;
let port: number;
let redis: PrivateRedis | undefined;
let early: RunningServer;
const others: RunningServer[] = [];

const readyz = async (server: RunningServer) => {
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  database = await createTestDatabase();
  port = await freePort();
  early = await startServer({
    env: {
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      REDIS_URL: `redis://default:${PASSWORD}@127.0.0.1:${port}`,
      REDIS_PREFIX: PREFIX,
      REPLICA_ID: "early",
      // Only Redis can bring it a change quickly: its own log poll is a minute away.
      INDEX_POLL_MS: "60000",
    },
  });
});

afterAll(async () => {
  await Promise.all([early?.stop(), ...others.map((s) => s.stop())]);
  await redis?.stop();
  await database?.drop();
});

describe("Redis unreachable at start", () => {
  it("starts, is ready but degraded naming Redis and its URL without credentials, serves, and uses Redis once it answers", async () => {
    const { status, body } = await readyz(early);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "ready", degraded: true, postgres: "up" });
    expect(body.redis).toMatch(new RegExp(`^down: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}`));
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
    expect((await deliver(early.url, "app", "ios", "US")).status).toBe(204);
    const whileAway = await graphqlClient(early.url)(`mutation { createCampaign(input: {
      id: "while-redis-away", name: "W", imageUrl: "https://x.example/w.png", cta: "Go" }) { version propagated } }`);
    expect(whileAway.errors).toBeUndefined();
    expect(whileAway.data?.createCampaign.propagated).toBe(true);
    await expect
      .poll(
        () => early.logs.some((l) => /cannot reach Redis at redis:\/\/127/.test(String((l as { msg?: string }).msg))),
        {
          // Logged once Redis has stayed unreachable for 2 s after start.
          message: "a warning naming Redis and the URL is logged",
          timeout: 10_000,
        },
      )
      .toBe(true);
    expect(JSON.stringify(early.logs)).not.toContain(PASSWORD);

    // One scenario, not two tests: what follows needs the replica to have started without Redis.
    // It uses Redis as soon as it answers: a change made elsewhere arrives through it.
    redis = await startPrivateRedis({ port, password: PASSWORD });
    await expect
      .poll(async () => (await readyz(early)).body.redis, {
        message: "early replica connects to Redis",
        timeout: 10_000,
      })
      .toBe("up");
    expect((await readyz(early)).body.degraded).toBe(false);
    const late = await startServer({
      env: {
        DATABASE_URL: database.url,
        ADMIN_TOKEN,
        REDIS_URL: redis.url,
        REDIS_PREFIX: PREFIX,
        REPLICA_ID: "late",
        // The early replica's log poll is a minute away, so `propagated: true` within 5 s still means
        // the change reached it through Redis; the 1 s default is a budget a loaded CI machine can miss.
        PROPAGATION_TIMEOUT_MS: "5000",
      },
    });
    others.push(late);
    const created = await graphqlClient(late.url)(`mutation { createCampaign(input: {
      id: "via-redis", name: "V", imageUrl: "https://x.example/v.png", cta: "Go" }) { version propagated } }`);
    expect(created.errors).toBeUndefined();
    const { version, propagated } = created.data?.createCampaign ?? {};
    expect(propagated).toBe(true);
    expect((await deliver(early.url, "app", "ios", "US")).version).toBeGreaterThanOrEqual(version);
    expect((await deliver(early.url, "app", "ios", "US")).cids).toEqual(["via-redis", "while-redis-away"]);
  });
});

// Named API keys (issue 16) against two replica processes sharing Postgres and a private Redis (stopped
// for one test, then started again): the secret is shown once and never logged; keys work on every
// replica at once, roles hold; a revoked key stops working on the other replica within a second — with
// Redis away too — and the subscriptions opened with it end (SSE and WebSocket); lastUsedAt is written
// in the background. Every test makes the keys it uses, under names of its own.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { KeyStore } from "../../src/keys/key-store.ts";
import { secretDigest } from "../../src/keys/secrets.ts";
import { createLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, graphqlClient, type Loose, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type PrivateRedis, startPrivateRedis } from "../helpers/redis.ts";
import { type RunningServer, startReplicas } from "../helpers/server.ts";
import { subscribeSse, subscribeWs } from "../helpers/subscribe.ts";

let database: TestDatabase;
let redis: PrivateRedis;
let A: RunningServer;
let B: RunningServer;

/** The contract's bound on revocation (and on a new key reaching another replica). */
const WITHIN_MS = 1_000;

const KEY_FIELDS = "id name role createdAt createdBy createdReason lastUsedAt revokedAt revokedBy revokedReason";
const CREATE_KEY = `mutation($name: String!, $role: ApiKeyRole!, $reason: String) {
  createApiKey(name: $name, role: $role, reason: $reason) { key apiKey { ${KEY_FIELDS} } } }`;
const REVOKE_KEY = `mutation($id: ID!, $reason: String) { revokeApiKey(id: $id, reason: $reason) { ${KEY_FIELDS} } }`;
const LIST_KEYS = `{ apiKeys { ${KEY_FIELDS} } }`;
const ME = "{ me { name role } }";
const SUBSCRIPTION = "subscription { ruleChanges { version campaignId actor } }";
const CREATE_CAMPAIGN = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version } }`;
const campaign = (id: string) => ({ input: { id, name: id, imageUrl: "https://cdn.example/x.png", cta: "Go" } });

const secrets: string[] = [];

async function createKey(name: string, role: "ADMIN" | "VIEWER", reason?: string) {
  const res = await graphqlClient(A.url)(CREATE_KEY, { name, role, reason });
  expect(res.errors).toBeUndefined();
  const created = res.data?.createApiKey as { key: string; apiKey: Loose };
  secrets.push(created.key);
  return created;
}

/** `me` on a replica with a token: the name it authenticates as, or the error code. */
async function whoIs(server: RunningServer, token: string): Promise<string> {
  const res = await graphqlClient(server.url, token)(ME);
  return res.data?.me?.name ?? String(codes(res)[0]);
}

let nextId = 0;
const newCampaign = (via = A) => graphqlClient(via.url)(CREATE_CAMPAIGN, campaign(`k${nextId++}`));

beforeAll(async () => {
  database = await createTestDatabase();
  redis = await startPrivateRedis();
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    ADMIN_TOKEN,
    VIEWER_TOKEN,
    // Everything a replica logs, SQL included, is searched for secrets.
    LOG_LEVEL: "debug",
    LOG_SQL: "true",
  };
  [A, B] = (await startReplicas(["A", "B"], env)) as [RunningServer, RunningServer];
});

afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
  await redis?.stop();
  await database?.drop();
});

describe("creating keys", () => {
  it("returns a bsk_ secret once; the key works on this replica at once and on the other within a second", async () => {
    const { key, apiKey } = await createKey("ops-bot", "ADMIN", "deploy pipeline");
    expect(key).toMatch(/^bsk_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      name: "ops-bot",
      role: "ADMIN",
      createdBy: "env-admin",
      createdReason: "deploy pipeline",
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(await whoIs(A, key)).toBe("ops-bot");
    await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("ops-bot"), { timeout: WITHIN_MS, interval: 20 });
    const res = await graphqlClient(B.url, key)(CREATE_CAMPAIGN, campaign("made-by-bot"));
    expect(res.errors).toBeUndefined();
  });

  it("never shows a secret again: not in apiKeys, not on a second create with the same name", async () => {
    const { apiKey } = await createKey("shown-once", "ADMIN");
    const listed = await graphqlClient(B.url)(LIST_KEYS);
    const names: string[] = listed.data?.apiKeys.map((k: Loose) => k.name);
    expect(names.filter((name) => name === "shown-once")).toEqual(["shown-once"]);
    expect(listed.data?.apiKeys.find((k: Loose) => k.name === "shown-once")).toEqual(apiKey);
    const again = await graphqlClient(A.url)(CREATE_KEY, { name: "shown-once", role: "VIEWER" });
    expect(codes(again)).toEqual(["CONFLICT"]);
    const text = JSON.stringify([listed, again]);
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(createHash("sha256").update(secret).digest("hex"));
    }
  });

  it("refuses names that would pass for the env tokens or SQL users", async () => {
    for (const name of ["env-admin", "ENV-thing", "sql:postgres", "", " ", "a b", "x".repeat(65)]) {
      const res = await graphqlClient(A.url)(CREATE_KEY, { name, role: "VIEWER" });
      expect(codes(res), name).toEqual(["BAD_USER_INPUT"]);
    }
  });

  it("gives a viewer key queries and subscriptions only; no viewer manages keys", async () => {
    const { key } = await createKey("dashboard-ro", "VIEWER");
    await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("dashboard-ro"), { timeout: WITHIN_MS });
    const viewer = graphqlClient(B.url, key);
    expect((await viewer("{ campaigns { id } }")).errors).toBeUndefined();
    expect(codes(await viewer(CREATE_CAMPAIGN, campaign("nope")))).toEqual(["FORBIDDEN"]);
    for (const token of [key, VIEWER_TOKEN]) {
      const as = graphqlClient(B.url, token);
      expect(codes(await as(CREATE_KEY, { name: "escalate", role: "ADMIN" }))).toEqual(["FORBIDDEN"]);
      expect(codes(await as(LIST_KEYS))).toEqual(["FORBIDDEN"]);
    }
    const res = await graphqlClient(A.url)(LIST_KEYS);
    expect(res.data?.apiKeys.find((k: Loose) => k.name === "dashboard-ro")).toMatchObject({
      role: "VIEWER",
      revokedAt: null,
    });
  });

  it("writes lastUsedAt in the background", async () => {
    const { key: secret, apiKey } = await createKey("used-key", "ADMIN");
    expect(apiKey.lastUsedAt).toBeNull();
    await vi.waitFor(async () => expect(await whoIs(B, secret)).toBe("used-key"), { timeout: WITHIN_MS });
    await vi.waitFor(
      async () => {
        const res = await graphqlClient(A.url)(LIST_KEYS);
        const key = res.data?.apiKeys.find((k: Loose) => k.name === "used-key");
        expect(key?.lastUsedAt).not.toBeNull();
      },
      { timeout: 15_000, interval: 250 },
    );
  });
});

describe("revoking keys", () => {
  it("stops the key on the other replica within a second and ends its open SSE and WebSocket subscriptions", async () => {
    const { key, apiKey } = await createKey("to-revoke", "ADMIN");
    await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("to-revoke"), { timeout: WITHIN_MS });
    const sse = await subscribeSse(B.url, key, SUBSCRIPTION);
    const ws = subscribeWs(B.url, key, SUBSCRIPTION);
    const bystander = await subscribeSse(B.url, VIEWER_TOKEN, SUBSCRIPTION);
    try {
      // All three are live: each receives a change made after it opened.
      await newCampaign();
      for (const s of [sse, ws, bystander]) await s.until((x) => x.data.length >= 1, "a first change");

      const revoked = await graphqlClient(A.url)(REVOKE_KEY, { id: apiKey.id, reason: "laptop stolen" });
      expect(revoked.data?.revokeApiKey).toMatchObject({ revokedBy: "env-admin", revokedReason: "laptop stolen" });
      expect(revoked.data?.revokeApiKey.revokedAt).not.toBeNull();
      expect(await whoIs(A, key)).toBe("UNAUTHENTICATED");
      await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("UNAUTHENTICATED"), { timeout: WITHIN_MS });
      await sse.until((s) => s.completed, "the SSE subscription to complete", WITHIN_MS);
      await ws.until((s) => s.completed, "the WebSocket subscription to complete", WITHIN_MS);

      await newCampaign();
      await bystander.until((x) => x.data.length >= 2, "the bystander's next change");
      expect(bystander.ended).toBe(false);
      const again = subscribeWs(B.url, key, SUBSCRIPTION);
      expect((await again.socketClosed).code).toBe(4401);
      await again.close();
    } finally {
      await Promise.all([sse.close(), ws.close(), bystander.close()]);
    }
    const twice = await graphqlClient(A.url)(REVOKE_KEY, { id: apiKey.id });
    expect(twice.data?.revokeApiKey.revokedReason).toBe("laptop stolen");
    expect(codes(await graphqlClient(A.url)(REVOKE_KEY, { id: "no-such-key" }))).toEqual(["NOT_FOUND"]);
  });

  it("reaches a replica that cannot hear Redis within a second (it polls Postgres)", async () => {
    await redis.stop();
    try {
      const { key, apiKey } = await createKey("no-redis", "VIEWER");
      await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("no-redis"), { timeout: WITHIN_MS });
      const sse = await subscribeSse(B.url, key, SUBSCRIPTION);
      try {
        const revoked = await graphqlClient(A.url)(REVOKE_KEY, { id: apiKey.id });
        expect(revoked.errors).toBeUndefined();
        await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("UNAUTHENTICATED"), { timeout: WITHIN_MS });
        await sse.until((s) => s.completed, "the SSE subscription to complete", WITHIN_MS);
      } finally {
        await sse.close();
      }
    } finally {
      // Redis back, and both replicas hearing it again, for the tests that run after this one.
      await redis.start();
      for (const server of [A, B]) {
        await expect
          .poll(async () => ((await (await fetch(`${server.url}/readyz`)).json()) as { redis?: string }).redis, {
            message: "the replica reconnected to Redis",
            timeout: 15_000,
          })
          .toMatch(/^up/);
      }
    }
  });

  it("drops a key revoked in SQL at the next poll of a replica's cache, aborting its signal", async () => {
    const db = createDb(database.url, { max: 1 });
    const store = new KeyStore(db, undefined, createLogger("silent"), { pollMs: 100 });
    try {
      await store.start();
      const { key, apiKey } = await createKey("sql-revoked", "VIEWER");
      await vi.waitFor(() => expect(store.find(secretDigest(key))?.name).toBe("sql-revoked"), { timeout: WITHIN_MS });
      const found = store.find(secretDigest(key));
      const queries = store.queries;
      for (let i = 0; i < 10_000; i++) store.find(secretDigest(key));
      expect(store.queries).toBe(queries);
      await database.sql("UPDATE api_key SET revoked_at = now() WHERE id = $1", [apiKey.id]);
      await vi.waitFor(() => expect(found?.revoked.aborted).toBe(true), { timeout: WITHIN_MS });
      expect(store.find(secretDigest(key))).toBeNull();
    } finally {
      await store.stop();
      await db.$disconnect();
    }
  });

  it("never logged a secret or its digest", async () => {
    // A key of this test's own, used on both replicas and revoked, so there is a secret to look for
    // whichever tests ran before; the secrets of those are checked too.
    const { key, apiKey } = await createKey("log-check", "ADMIN");
    expect(await whoIs(A, key)).toBe("log-check");
    await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("log-check"), { timeout: WITHIN_MS });
    expect((await graphqlClient(A.url)(REVOKE_KEY, { id: apiKey.id })).errors).toBeUndefined();
    await vi.waitFor(async () => expect(await whoIs(B, key)).toBe("UNAUTHENTICATED"), { timeout: WITHIN_MS });
    const logs = JSON.stringify([A.logs, B.logs]);
    expect(logs.length).toBeGreaterThan(10_000);
    expect(secrets).toContain(key);
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.slice(4));
      expect(logs).not.toContain(createHash("sha256").update(secret).digest("hex"));
    }
  });
});

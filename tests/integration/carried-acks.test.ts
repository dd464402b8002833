// A change carried ahead of its commit is ready to commit once every replica live on the bus has built
// it: each acknowledges its build on the bus (replica-presence.ts), and the writing replica waits for
// those acknowledgements (propagation.ts), at most the propagation timeout. Two replicas' index syncs
// on one real database and the in-process bus (the bus of a single host).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createDb, type Db } from "../../src/db/client.ts";
import type { CampaignDef } from "../../src/delivery/types.ts";
import { createLogger } from "../../src/logger.ts";
import { type Bus, createBus, PREPARED_TOPIC, type PreparedMessage } from "../../src/sync/bus.ts";
import { IndexSync } from "../../src/sync/index-sync.ts";
import { createPropagation } from "../../src/sync/propagation.ts";
import { joinReplicas, type Presence } from "../../src/sync/replica-presence.ts";
import { ReplicaRegistry } from "../../src/sync/replicas.ts";
import { ServedVersions } from "../../src/sync/served-versions.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { startPrivateRedis, uniquePrefix } from "../helpers/redis.ts";

const log = createLogger("silent");
let database: TestDatabase;
let db: Db;
let bus: Bus;
const presences: Presence[] = [];

const campaign = (id: string): CampaignDef => ({
  id,
  imageUrl: `https://x.example/${id}.png`,
  cta: "Go",
  status: "ACTIVE",
  priority: 0,
  startsAt: null,
  endsAt: null,
  include: { app: [], country: ["US"], os: [], category: [] },
  exclude: { app: [], country: [], os: [], category: [] },
});

const campaignsOnly = (def: CampaignDef) => ({ campaigns: new Map([[def.id, def]]), categories: new Map() });

/** A replica's index, loaded from the (empty) catalog. */
async function loadedSync(): Promise<IndexSync> {
  const sync = new IndexSync(db, log);
  await sync.refresh();
  return sync;
}

/** The writing replica "A" carrying a change, with a propagation timeout of `timeoutMs`. */
async function writer(timeoutMs: number, on: Bus = bus) {
  const registry = new ReplicaRegistry("A");
  const propagation = createPropagation({
    sync: await loadedSync(),
    bus: on,
    replicas: registry,
    served: new ServedVersions(db, "A", log),
    replicaId: "A",
    timeoutMs,
    log,
  });
  return { registry, propagation };
}

async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 4 });
  bus = createBus(loadConfig({}), log);
});

afterAll(async () => {
  for (const presence of presences) await presence.stop();
  await bus?.close();
  await db?.$disconnect();
  await database?.drop();
});

describe("a change carried ahead of its commit", () => {
  it("is built everywhere once a live replica that received its parts acknowledged its own build", async () => {
    // A timeout far beyond the test's own: the wait can only end by B's acknowledgement.
    const { registry, propagation } = await writer(120_000);
    const b = await loadedSync();
    presences.push(await joinReplicas("B", bus, b, new ReplicaRegistry("B"), new ServedVersions(db, "B", log), log));
    registry.record("B", b.version);
    const acknowledgements: string[] = [];
    bus.subscribe<PreparedMessage>(PREPARED_TOPIC, (message) => {
      if (message.built) acknowledgements.push(message.replica);
    });

    const campaigns = new Map<string, CampaignDef | null>(
      [...Array(300).keys()].map((i) => [`c${i}`, campaign(`c${i}`)]),
    );
    // A category of 5,000 apps travels in several runs; B joins them.
    const apps = Array.from({ length: 5_000 }, (_, i) => `app${i}`);
    const categories = new Map([["big", { id: "big", apps }]]);
    const prepared = propagation.prepare({ campaigns, categories });
    await prepared.built();
    expect(acknowledgements).toEqual(["B"]);
    // And B really built it: its commit installs it at once, without reading the log.
    const served = await b.commitPrepared(prepared.token, b.version + 1);
    expect(served.campaignCount).toBe(300);
    expect(apps.every((app) => served.categoriesOf(app).includes("big"))).toBe(true);
  });

  it("waits for a live replica that has not acknowledged, until the propagation timeout", async () => {
    const { registry, propagation } = await writer(400);
    registry.record("silent", 0); // live on the bus, but never builds anything
    const prepared = propagation.prepare(campaignsOnly(campaign("s1")));
    const built = prepared.built();
    expect(await settledWithin(built, 200)).toBe(false);
    expect(await settledWithin(built, 600)).toBe(true);

    // Acknowledged by it: done at once.
    const again = propagation.prepare(campaignsOnly(campaign("s2")));
    const builtAgain = again.built();
    expect(await settledWithin(builtAgain, 100)).toBe(false);
    bus.publish(PREPARED_TOPIC, { token: again.token, replica: "silent", built: true });
    expect(await settledWithin(builtAgain, 100)).toBe(true);
  });

  it("does not wait for acknowledgements while the bus (Redis) is away: neither parts nor answers travel", async () => {
    const redis = await startPrivateRedis();
    const redisBus = createBus(loadConfig({ REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix("carried") }), log);
    try {
      // A timeout far beyond the test's own, and a replica live on the bus a moment ago.
      const { registry, propagation } = await writer(120_000, redisBus);
      registry.record("B", 0);
      await redis.stop();
      while (redisBus.connected()) await new Promise((resolve) => setTimeout(resolve, 20));
      const prepared = propagation.prepare(campaignsOnly(campaign("r1")));
      await prepared.built();
      expect(redisBus.connected()).toBe(false);
    } finally {
      await redisBus.close();
      await redis.stop();
    }
  });
});

// Live propagation across replicas (separate processes sharing Postgres and Redis): a mutation through
// one replica returns only when every live replica serves it, so the very next delivery on any replica
// reflects it; direct SQL edits, restarts and concurrent writers all converge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import { loadFullIndexData } from "../../src/store/targeting-store.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient, type Loose } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type ChildServer, startServerProcess, waitUntil } from "../helpers/server.ts";

let database: TestDatabase;
let env: Record<string, string>;
const replicas: Record<"A" | "B" | "C", ChildServer> = {} as never;
const gqlA = () => graphqlClient(replicas.A.url);

const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

const startReplica = (id: string) => startServerProcess({ env: { ...env, REPLICA_ID: id } });

async function mutate(
  query: string,
  variables: Loose,
  via = replicas.A,
): Promise<{ version: number; propagated: boolean }> {
  const res = await graphqlClient(via.url)(query, variables);
  expect(res.errors).toBeUndefined();
  const [change] = Object.values(res.data ?? {});
  return change as { version: number; propagated: boolean };
}

/** Every replica's very next delivery answer for a device: cids and X-Index-Version. */
const everywhere = (app: string, os: string, country: string) =>
  Promise.all((["A", "B", "C"] as const).map((id) => deliver(replicas[id].url, app, os, country)));

/**
 * Every replica's next answer for the device is at least `version` and serves exactly `cids` of the
 * test's own campaigns (`mine`), in that order: campaigns other tests made may match the device too.
 */
async function expectEverywhere(
  version: number,
  device: [string, string, string],
  cids: string[],
  mine: readonly string[],
) {
  for (const answer of await everywhere(...device)) {
    expect(answer.version).toBeGreaterThanOrEqual(version);
    expect(answer.cids.filter((cid) => mine.includes(cid))).toEqual(cids);
  }
}

const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { version propagated } }`;
const DELETE = `mutation($id: ID!) { deleteCampaign(id: $id) { version propagated } }`;
const UPSERT_CATEGORY = `mutation($input: CategoryInput!) { upsertCategory(input: $input) { version propagated } }`;
const DELETE_CATEGORY = `mutation($id: ID!) { deleteCategory(id: $id) { version propagated } }`;
const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version propagated count } }`;

const campaign = (id: string, extra: Loose = {}) => ({
  id,
  name: id,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Go",
  ...extra,
});

beforeAll(async () => {
  database = await createTestDatabase();
  env = {
    DATABASE_URL: database.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("propagation"),
    ADMIN_TOKEN,
    PROPAGATION_TIMEOUT_MS: "3000",
    INDEX_POLL_MS: "1000",
  };
  [replicas.A, replicas.B, replicas.C] = await Promise.all([startReplica("A"), startReplica("B"), startReplica("C")]);
  // Every replica has heard every other before the first read-your-write check.
  await waitUntil(async () => {
    const res = await gqlA()("{ indexStatus { replicas { id } } }");
    return res.data?.indexStatus.replicas.length === 3;
  }, 10_000);
});

afterAll(async () => {
  await Promise.all(Object.values(replicas).map((r) => r?.stop()));
  await database?.drop();
});

describe("read your write on every replica", () => {
  it("lists every live replica in indexStatus", async () => {
    const res = await gqlA()("{ indexStatus { version replicas { id version seenAt } } }");
    expect(res.data?.indexStatus.replicas.map((r: Loose) => r.id)).toEqual(["A", "B", "C"]);
  });

  it("create: the next delivery on B and C serves the new campaign", async () => {
    const change = await mutate(CREATE, {
      input: campaign("alpha", { priority: 5, targeting: { include: { apps: ["app1"], countries: ["US"] } } }),
    });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["app1", "ios", "US"], ["alpha"], ["alpha"]);
  });

  it.each([
    ["apps", { include: { apps: ["app2"], countries: ["US"] } }, ["app2", "ios", "US"], ["app1", "ios", "US"]],
    ["countries", { include: { apps: ["app2"], countries: ["Canada"] } }, ["app2", "ios", "CA"], ["app2", "ios", "US"]],
    ["os", { include: { apps: ["app2"], os: ["android"] } }, ["app2", "android", "FR"], ["app2", "ios", "FR"]],
    ["exclusions", { exclude: { countries: ["DE"] } }, ["any", "ios", "FR"], ["any", "ios", "DE"]],
  ])("update of %s: every replica answers with the new rules", async (name, targeting, matching, notMatching) => {
    // Its own campaign, serving the device the update takes it away from until the update.
    const id = `update-${name}`;
    const [app, os, country] = notMatching as [string, string, string];
    const created = await mutate(CREATE, {
      input: campaign(id, { priority: 5, targeting: { include: { apps: [app], os: [os], countries: [country] } } }),
    });
    expect(created.propagated).toBe(true);
    await expectEverywhere(created.version, [app, os, country], [id], [id]);
    const change = await mutate(UPDATE, { id, input: { targeting } });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, matching as [string, string, string], [id], [id]);
    await expectEverywhere(change.version, notMatching as [string, string, string], [], [id]);
  });

  it("category edits change delivery everywhere", async () => {
    const mine = ["by-category"];
    await mutate(CREATE, { input: campaign("by-category", { targeting: { include: { apps: ["cat-app0"] } } }) });
    await mutate(UPDATE, { id: "by-category", input: { targeting: { include: { categories: ["music"] } } } });
    let change = await mutate(UPSERT_CATEGORY, { input: { id: "music", name: "Music", apps: ["tunes"] } });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["tunes", "ios", "US"], ["by-category"], mine);
    change = await mutate(UPSERT_CATEGORY, { input: { id: "music", name: "Music", apps: ["beats"] } });
    await expectEverywhere(change.version, ["tunes", "ios", "US"], [], mine);
    await expectEverywhere(change.version, ["beats", "ios", "US"], ["by-category"], mine);
    change = await mutate(DELETE_CATEGORY, { id: "music" });
    expect(change.propagated).toBe(true);
    // The rule naming the category went with it: the campaign has no include rule left and serves everyone.
    await expectEverywhere(change.version, ["beats", "ios", "US"], ["by-category"], mine);
    await expectEverywhere(change.version, ["tunes", "ios", "US"], ["by-category"], mine);
  });

  it("pause, resume and flight dates propagate", async () => {
    const mine = ["pausable"];
    let change = await mutate(CREATE, { input: campaign("pausable") });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["x", "ios", "US"], ["pausable"], mine);
    change = await mutate(UPDATE, { id: "pausable", input: { status: "PAUSED" } });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["x", "ios", "US"], [], mine);
    change = await mutate(UPDATE, { id: "pausable", input: { status: "ACTIVE" } });
    await expectEverywhere(change.version, ["x", "ios", "US"], ["pausable"], mine);
    change = await mutate(UPDATE, {
      id: "pausable",
      input: { startsAt: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["x", "ios", "US"], [], mine);
  });

  it("import and delete propagate", async () => {
    const mine = ["bulk1", "bulk2", "bulk3"];
    let change = await mutate(IMPORT, {
      campaigns: [1, 2, 3].map((i) =>
        campaign(`bulk${i}`, { priority: i, targeting: { include: { apps: ["bulkapp"] } } }),
      ),
    });
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["bulkapp", "ios", "US"], ["bulk3", "bulk2", "bulk1"], mine);
    change = await mutate(DELETE, { id: "bulk3" }, replicas.C);
    expect(change.propagated).toBe(true);
    await expectEverywhere(change.version, ["bulkapp", "ios", "US"], ["bulk2", "bulk1"], mine);
  });
});

/** How many changes a replica applied of one kind (its /metrics). */
async function appliedCount(replica: ChildServer, kind: "carried" | "delta" | "full"): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  const line = new RegExp(`^bullseye_index_apply_duration_seconds_count\\{kind="${kind}"\\} (\\d+)$`, "m").exec(text);
  return Number(line?.[1] ?? 0);
}

/** How many changes B and C each applied as carried ahead of their commit. */
const carriedOnBAndC = () => Promise.all([replicas.B, replicas.C].map((r) => appliedCount(r, "carried")));

/**
 * Every replica answers each device exactly as a snapshot built now from Postgres does, at its version;
 * `check` asserts what that expected answer holds, so the comparison cannot pass on empty answers.
 */
async function expectEverywhereAsBuiltFromPostgres(
  devices: [string, string, string][],
  check: (expected: readonly string[], app: string) => void,
): Promise<void> {
  const db = createDb(database.url);
  try {
    const data = await loadFullIndexData(db);
    const fresh = TargetingSnapshot.build(data.version, data.campaigns, data.categories);
    for (const [app, os, country] of devices) {
      const expected = fresh.match({ app, os, country }).campaignIds;
      check(expected, app);
      for (const answer of await everywhere(app, os, country)) {
        expect(answer.version).toBe(data.version);
        expect(answer.cids).toEqual(expected);
      }
    }
  } finally {
    await db.$disconnect();
  }
}

describe("imports and category app sets carried on the bus", () => {
  it("B and C apply an import from its announcement, not the log, and answer exactly as a build from Postgres does", async () => {
    const apps = ["car0", "car1", "car2", "car3", "car4"];
    const countries = ["US", "FR", "JP"];
    const item = (i: number, round: number) =>
      campaign(`carried${i}`, {
        priority: (i * 7 + round) % 5,
        status: (i + round) % 9 === 0 ? "PAUSED" : "ACTIVE",
        endsAt: i % 11 === round ? new Date(Date.now() - 60_000).toISOString() : null,
        cta: `Go ${round}`,
        targeting: {
          include: {
            apps: apps.filter((_, k) => (i + k + round) % 3 === 0),
            countries: i % 4 === 0 ? [] : countries.filter((_, k) => (i + k) % 2 === round % 2),
          },
          exclude: { os: i % 5 === 0 ? ["android"] : [] },
        },
      });
    const before = await carriedOnBAndC();
    // A new batch, then the same ids again with other targeting (rules replaced, some campaigns paused).
    for (const round of [0, 1]) {
      const change = await mutate(IMPORT, { campaigns: Array.from({ length: 120 }, (_, i) => item(i, round)) });
      expect(change.propagated).toBe(true);
    }
    const after = await carriedOnBAndC();
    expect(after).toEqual(before.map((n) => n + 2));

    const devices = apps.flatMap((app) =>
      ["ios", "android"].flatMap((os) => countries.map((country): [string, string, string] => [app, os, country])),
    );
    await expectEverywhereAsBuiltFromPostgres(devices, (expected) =>
      expect(expected.some((id) => id.startsWith("carried"))).toBe(true),
    );
  });

  it("two imports through two replicas at once: both carried everywhere, answering as a build from Postgres does", async () => {
    const apps = ["dual0", "dual1", "dual2"];
    const batch = (prefix: string, offset: number) =>
      Array.from({ length: 80 }, (_, i) =>
        campaign(`${prefix}${i}`, {
          priority: (i + offset) % 7,
          targeting: { include: { apps: apps.filter((_, k) => (i + k + offset) % 2 === 0) } },
        }),
      );
    // The first import's rules take a second to write: the second import, sent meanwhile, is carried
    // and built onto the version before the first, waits for the first to commit, then commits onto it.
    // Its prepared snapshot is then of a version that is gone: it must be applied from what it carried.
    await database.sql(`
      CREATE FUNCTION slow_dual() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows WHERE campaign_id LIKE 'duala%') THEN PERFORM pg_sleep(1); END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER slow_dual AFTER INSERT ON targeting_rule REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION slow_dual();`);
    try {
      const before = await carriedOnBAndC();
      const first = mutate(IMPORT, { campaigns: batch("duala", 0) }, replicas.A);
      await new Promise((r) => setTimeout(r, 300));
      const second = await mutate(IMPORT, { campaigns: batch("dualb", 1) }, replicas.B);
      expect(second).toEqual({ version: (await first).version + 1, propagated: true, count: 80 });
      const after = await carriedOnBAndC();
      expect(after).toEqual(before.map((n) => n + 2));
    } finally {
      await database.sql("DROP TRIGGER slow_dual ON targeting_rule; DROP FUNCTION slow_dual()");
    }
    await expectEverywhereAsBuiltFromPostgres(
      apps.map((app) => [app, "ios", "US"]),
      (expected) => expect(expected.filter((id) => id.startsWith("dual")).length).toBeGreaterThan(40),
    );
  });

  it("a category's app set is carried too: B and C apply it from its parts, answering as a build from Postgres does", async () => {
    await mutate(CREATE, { input: campaign("by-carried", { targeting: { include: { categories: ["carriedcat"] } } }) });
    const apps = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `cc${from + i}`);
    const before = await carriedOnBAndC();
    // 6,000 apps travel in several parts; then a set that drops half of them and adds 3,000.
    for (const set of [apps(0, 6_000), apps(3_000, 9_000)]) {
      const change = await mutate(UPSERT_CATEGORY, { input: { id: "carriedcat", name: "Carried", apps: set } });
      expect(change.propagated).toBe(true);
    }
    const after = await carriedOnBAndC();
    expect(after).toEqual(before.map((n) => n + 2));
    const devices = ["cc0", "cc2999", "cc3000", "cc5999", "cc6000", "cc8999", "cc9000"].map(
      (app): [string, string, string] => [app, "ios", "US"],
    );
    await expectEverywhereAsBuiltFromPostgres(devices, (expected, app) =>
      expect(expected.includes("by-carried")).toBe(app !== "cc0" && app !== "cc2999" && app !== "cc9000"),
    );
  });

  it("deleting a category is carried too: its rules leave the campaigns naming it on B and C at the commit", async () => {
    const change = await mutate(UPSERT_CATEGORY, { input: { id: "gonecat", name: "Gone", apps: ["gc0", "gc1"] } });
    expect(change.propagated).toBe(true);
    await mutate(IMPORT, {
      campaigns: [
        campaign("gone-in", { targeting: { include: { categories: ["gonecat"], countries: ["FR"] } } }),
        campaign("gone-out", {
          targeting: { include: { apps: ["gc1", "gc2"] }, exclude: { categories: ["gonecat"] } },
        }),
      ],
    });
    const before = await carriedOnBAndC();
    const deleted = await mutate(DELETE_CATEGORY, { id: "gonecat" });
    expect(deleted.propagated).toBe(true);
    expect(await carriedOnBAndC()).toEqual(before.map((n) => n + 1));
    const devices: [string, string, string][] = [
      ["gc0", "ios", "FR"],
      ["gc1", "ios", "US"],
      ["gc2", "ios", "FR"],
      ["elsewhere", "ios", "FR"],
    ];
    // gone-in keeps only its country; gone-out is no longer excluded for gc1.
    await expectEverywhereAsBuiltFromPostgres(devices, (expected, app) => {
      expect(expected.includes("gone-in")).toBe(app !== "gc1");
      expect(expected.includes("gone-out")).toBe(app === "gc1" || app === "gc2");
    });
    const missing = await gqlA()(DELETE_CATEGORY, { id: "gonecat" });
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("an import whose transaction fails after its parts went out is served nowhere; its version number serves the next write", async () => {
    // The rules of `doomed*` campaigns fail their statement after a pause: by then every replica holds
    // the carried change and has built a snapshot from it.
    await database.sql(`
      CREATE FUNCTION fail_doomed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_rows WHERE campaign_id LIKE 'doomed%') THEN
          PERFORM pg_sleep(0.5);
          RAISE EXCEPTION 'doomed import';
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER fail_doomed AFTER INSERT ON targeting_rule REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION fail_doomed();`);
    try {
      const before = await latestVersion();
      const failed = await gqlA()(IMPORT, {
        campaigns: Array.from({ length: 50 }, (_, i) =>
          campaign(`doomed${i}`, { priority: 100, targeting: { include: { apps: ["doomapp"] } } }),
        ),
      });
      expect(failed.errors).toBeDefined();
      expect(await latestVersion()).toBe(before);
      const created = await mutate(CREATE, {
        input: campaign("undoomed", { priority: 1, targeting: { include: { apps: ["doomapp"] } } }),
      });
      expect(created).toEqual({ version: before + 1, propagated: true });
      const mine = ["undoomed", ...Array.from({ length: 50 }, (_, i) => `doomed${i}`)];
      await expectEverywhere(created.version, ["doomapp", "ios", "US"], ["undoomed"], mine);
    } finally {
      await database.sql("DROP TRIGGER fail_doomed ON targeting_rule; DROP FUNCTION fail_doomed()");
    }
  });
});

describe("convergence", () => {
  it("a direct SQL edit reaches all three replicas within 2 s", async () => {
    const mine = ["sql1", "sql2"];
    const created = await mutate(IMPORT, {
      campaigns: [1, 2].map((i) => campaign(`sql${i}`, { priority: i, targeting: { include: { apps: ["sqlapp"] } } })),
    });
    expect(created.propagated).toBe(true);
    await expectEverywhere(created.version, ["sqlapp", "ios", "JP"], ["sql2", "sql1"], mine);
    await database.sql(`INSERT INTO targeting_rule VALUES ('sql1', 'COUNTRY', 'EXCLUDE', 'JP')`);
    const version = await latestVersion();
    const started = Date.now();
    await waitUntil(async () => (await everywhere("sqlapp", "ios", "JP")).every((a) => a.version >= version), {
      timeoutMs: 2_000,
      everyMs: 20,
      what: `version ${version} on every replica`,
    });
    const elapsed = Date.now() - started;
    await expectEverywhere(version, ["sqlapp", "ios", "JP"], ["sql2"], mine);
    console.log(`direct SQL edit on all 3 replicas after ${elapsed} ms`);
  });

  it("50 concurrent mutations from several clients: every replica ends on the same version and answers", async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `conc${i}`);
    const via = [replicas.A, replicas.B, replicas.C];
    const jobs = Array.from({ length: 50 }, (_, i) => {
      const id = ids[i % ids.length] as string;
      const input =
        i < ids.length
          ? campaign(id, { priority: i, targeting: { include: { apps: [`capp${i % 3}`] } } })
          : {
              priority: (i * 7) % 100,
              targeting: { include: { apps: [`capp${i % 3}`], countries: i % 2 ? ["US"] : ["FR"] } },
            };
      return i < ids.length
        ? () => graphqlClient(via[i % 3]!.url)(CREATE, { input })
        : () => graphqlClient(via[i % 3]!.url)(UPDATE, { id, input });
    });
    // Creates first (updates need them), then 40 updates all at once.
    const created = await Promise.all(jobs.slice(0, ids.length).map((job) => job()));
    const updated = await Promise.all(jobs.slice(ids.length).map((job) => job()));
    for (const res of [...created, ...updated]) expect(res.errors).toBeUndefined();

    const version = await latestVersion();
    const db = createDb(database.url);
    try {
      const data = await loadFullIndexData(db);
      expect(data.version).toBe(version);
      const fresh = TargetingSnapshot.build(data.version, data.campaigns, data.categories);
      for (const app of ["capp0", "capp1", "capp2"]) {
        for (const country of ["US", "FR"]) {
          const expected = fresh.match({ app, os: "ios", country }).campaignIds;
          for (const answer of await everywhere(app, "ios", country)) {
            expect(answer.version).toBe(version);
            expect(answer.cids).toEqual(expected);
          }
        }
      }
    } finally {
      await db.$disconnect();
    }
  });

  it("a replica killed with SIGKILL serves the latest version as soon as it is ready again", async () => {
    const created = await mutate(CREATE, {
      input: campaign("survivor", { targeting: { include: { apps: ["killapp"] } } }),
    });
    expect(created.propagated).toBe(true);
    await replicas.B.stop("SIGKILL");
    // B is still counted live until its last report is 5 s old: the first mutation cannot be confirmed.
    const unconfirmed = await mutate(UPDATE, { id: "survivor", input: { cta: "Go 0" } }, replicas.C);
    expect(unconfirmed.propagated).toBe(false);
    for (let i = 1; i < 3; i++) await mutate(UPDATE, { id: "survivor", input: { cta: `Go ${i}` } }, replicas.C);
    const version = await latestVersion();
    replicas.B = await startReplica("B");
    const first = await deliver(replicas.B.url, "killapp", "ios", "US");
    expect(first.version).toBe(version);
    const ads = (await (await fetch(`${replicas.B.url}/v1/delivery?app=killapp&os=ios&country=US`)).json()) as Loose[];
    expect(ads.find((ad) => ad.cid === "survivor")?.cta).toBe("Go 2");
  });
});

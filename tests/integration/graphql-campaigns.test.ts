// Campaign queries and mutations over real HTTP (CONTRACT §2, §4): validation, one version per
// mutation, CONFLICT/NOT_FOUND, optimistic concurrency, and read-your-write on /v1/delivery.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;

const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

const CAMPAIGN_FIELDS = `id name imageUrl cta status priority startsAt endsAt revision createdAt updatedAt
  targeting { include { apps countries os categories } exclude { apps countries os categories } }`;

const CREATE = `mutation($input: CreateCampaignInput!) {
  createCampaign(input: $input) { version propagated campaign { ${CAMPAIGN_FIELDS} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) {
  updateCampaign(id: $id, input: $input) { version propagated campaign { ${CAMPAIGN_FIELDS} } } }`;
const DELETE = `mutation($id: ID!) { deleteCampaign(id: $id) { version propagated campaign { id } } }`;

const base = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `Campaign ${id}`,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Install",
  ...extra,
});

/**
 * Targeting no delivery test asks for: a campaign without rules matches every device, so campaigns a
 * test makes only to query or update never show up in another test's delivery.
 */
const nowhere = { targeting: { include: { countries: ["JP"] } } };

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN } });
  gql = graphqlClient(server.url);
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("createCampaign", () => {
  it("creates a campaign with normalised targeting as one version, served by the very next delivery", async () => {
    const before = await latestVersion();
    const res = await gql(CREATE, {
      input: base(" Spotify ", {
        priority: 10,
        targeting: {
          include: { countries: ["Canada", " us "], os: ["Android"], apps: ["Com.Example.App"] },
          exclude: { categories: ["Games"] },
        },
      }),
    });
    expect(res.errors).toBeUndefined();
    const change = res.data?.createCampaign;
    expect(change.version).toBe(before + 1);
    expect(await latestVersion()).toBe(before + 1);
    expect(change.propagated).toBe(true);
    expect(change.campaign).toMatchObject({
      id: "spotify",
      status: "ACTIVE",
      priority: 10,
      revision: 1,
      startsAt: null,
      endsAt: null,
      targeting: {
        include: { apps: ["com.example.app"], countries: ["CA", "US"], os: ["android"], categories: [] },
        exclude: { apps: [], countries: [], os: [], categories: ["games"] },
      },
    });

    const served = await deliver(server.url, "com.example.app", "android", "ca");
    expect(served).toEqual({ status: 200, version: change.version, cids: ["spotify"] });
    expect((await deliver(server.url, "com.example.app", "ios", "CA")).status).toBe(204);
  });

  it("answers CONFLICT for an id that exists, writing nothing", async () => {
    expect((await gql(CREATE, { input: base("dupe", nowhere) })).errors).toBeUndefined();
    const before = await latestVersion();
    const res = await gql(CREATE, { input: base("DUPE") });
    expect(codes(res)).toEqual(["CONFLICT"]);
    expect(await latestVersion()).toBe(before);
  });

  it("reports every bad field at once as BAD_USER_INPUT, writing nothing", async () => {
    const before = await latestVersion();
    const res = await gql(CREATE, {
      input: {
        id: "-Bad Id",
        name: "",
        imageUrl: "ftp://files.example/a.png",
        cta: "x".repeat(51),
        priority: 1001,
        startsAt: "2026-06-01T00:00:00Z",
        endsAt: "2026-05-01T00:00:00Z",
        targeting: {
          include: { countries: ["US", "Narnia"], os: ["i o s"], apps: ["has space"], categories: ["Not A Slug!"] },
          exclude: { countries: Array.from({ length: 10_001 }, () => "US") },
        },
      },
    });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(Object.keys(res.errors?.[0]?.extensions?.fields ?? {}).sort()).toEqual(
      [
        "input.id",
        "input.name",
        "input.imageUrl",
        "input.cta",
        "input.priority",
        "input.endsAt",
        "input.targeting.include.countries.1",
        "input.targeting.include.os.0",
        "input.targeting.include.apps.0",
        "input.targeting.include.categories.0",
        "input.targeting.exclude.countries",
      ].sort(),
    );
    expect(res.errors?.[0]?.extensions?.fields["input.imageUrl"]).toMatch(/http/);
    expect(await latestVersion()).toBe(before);
  });

  it("reports a malformed DateTime with its input path", async () => {
    const res = await gql(CREATE, { input: base("dates", { startsAt: "tomorrow", endsAt: "2026-05-01" }) });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(Object.keys(res.errors?.[0]?.extensions?.fields ?? {}).sort()).toEqual(["input.endsAt", "input.startsAt"]);
  });
});

describe("campaign and campaigns queries", () => {
  beforeAll(async () => {
    for (const id of ["page-a", "page-b", "page-c", "page-d"]) {
      expect(
        (await gql(CREATE, { input: base(id, { ...nowhere, status: id === "page-c" ? "PAUSED" : "ACTIVE" }) })).errors,
      ).toBeUndefined();
    }
  });

  it("finds one campaign by id (case-insensitively) and null for an unknown one", async () => {
    const res = await gql(
      `{ a: campaign(id: "PAGE-A") { id name } none: campaign(id: "nope") { id } bad: campaign(id: "!") { id } }`,
    );
    expect(res.data).toEqual({ a: { id: "page-a", name: "Campaign page-a" }, none: null, bad: null });
  });

  it("pages by id with first/after and filters by status", async () => {
    const page1 = await gql(`{ campaigns(first: 2, after: "page") { id } }`);
    expect(page1.data?.campaigns.map((c: { id: string }) => c.id)).toEqual(["page-a", "page-b"]);
    const page2 = await gql(`{ campaigns(first: 2, after: "page-b") { id } }`);
    expect(page2.data?.campaigns.map((c: { id: string }) => c.id)).toEqual(["page-c", "page-d"]);
    // Other tests pause campaigns of their own: of this test's four, only page-c is listed.
    const paused = await gql(`{ campaigns(status: PAUSED) { id status } }`);
    const listed: { id: string; status: string }[] = paused.data?.campaigns;
    expect(listed.filter((c) => c.id.startsWith("page-"))).toEqual([{ id: "page-c", status: "PAUSED" }]);
    expect(listed.filter((c) => c.status !== "PAUSED")).toEqual([]);
  });

  it("refuses first above 500 (or below 1) with BAD_USER_INPUT", async () => {
    for (const first of [501, 0, -1]) {
      const res = await gql(`query($first: Int) { campaigns(first: $first) { id } }`, { first });
      expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors?.[0]?.extensions?.fields).toHaveProperty("first");
    }
    expect((await gql(`{ campaigns(first: 500) { id } }`)).errors).toBeUndefined();
  });
});

describe("updateCampaign", () => {
  it("changes fields, bumps the revision and replaces the whole targeting, as one version", async () => {
    await gql(CREATE, { input: base("upd", { targeting: { include: { countries: ["US"], apps: ["app.one"] } } }) });
    expect((await deliver(server.url, "app.one", "ios", "US")).cids).toContain("upd");

    const before = await latestVersion();
    const res = await gql(UPDATE, {
      id: "upd",
      input: { name: "Renamed", priority: 99, expectedRevision: 1, targeting: { include: { countries: ["Germany"] } } },
    });
    expect(res.errors).toBeUndefined();
    const change = res.data?.updateCampaign;
    expect(change.version).toBe(before + 1);
    expect(await latestVersion()).toBe(before + 1);
    expect(change.campaign).toMatchObject({
      name: "Renamed",
      priority: 99,
      revision: 2,
      cta: "Install",
      targeting: { include: { countries: ["DE"], apps: [], os: [], categories: [] } },
    });

    // The very next delivery: the old rules are gone, the new ones serve.
    expect(await deliver(server.url, "app.one", "ios", "US")).toMatchObject({ version: change.version });
    expect((await deliver(server.url, "app.one", "ios", "US")).cids).not.toContain("upd");
    const served = await deliver(server.url, "anything", "ios", "DE");
    expect(served.version).toBe(change.version);
    expect(served.cids).toContain("upd");
  });

  it("allocates a version even when nothing but the revision changes", async () => {
    expect((await gql(CREATE, { input: base("upd-noop", nowhere) })).errors).toBeUndefined();
    expect((await gql(UPDATE, { id: "upd-noop", input: { name: "Renamed" } })).errors).toBeUndefined();
    const before = await latestVersion();
    const res = await gql(UPDATE, { id: "upd-noop", input: {} });
    expect(res.data?.updateCampaign.version).toBe(before + 1);
    expect(res.data?.updateCampaign.campaign.revision).toBe(3);
  });

  it("pauses and clears flight dates; paused campaigns stop serving at once", async () => {
    const created = await gql(CREATE, {
      input: base("upd-pause", {
        startsAt: "2020-01-01T00:00:00Z",
        endsAt: "2099-01-01T00:00:00Z",
        targeting: { include: { countries: ["AT"] } },
      }),
    });
    expect(created.errors).toBeUndefined();
    expect((await deliver(server.url, "anything", "ios", "AT")).cids).toContain("upd-pause");
    const res = await gql(UPDATE, { id: "upd-pause", input: { status: "PAUSED", startsAt: null, endsAt: null } });
    expect(res.data?.updateCampaign.campaign).toMatchObject({ status: "PAUSED", startsAt: null, endsAt: null });
    const served = await deliver(server.url, "anything", "ios", "AT");
    expect(served.version).toBe(res.data?.updateCampaign.version);
    expect(served.cids).not.toContain("upd-pause");
  });

  it("answers CONFLICT when expectedRevision is not the stored one, writing nothing", async () => {
    expect((await gql(CREATE, { input: base("upd-conflict", nowhere) })).errors).toBeUndefined();
    for (const name of ["Renamed once", "Renamed"]) {
      expect((await gql(UPDATE, { id: "upd-conflict", input: { name } })).errors).toBeUndefined();
    }
    // Now at revision 3.
    const before = await latestVersion();
    const res = await gql(UPDATE, { id: "upd-conflict", input: { name: "Nope", expectedRevision: 1 } });
    expect(codes(res)).toEqual(["CONFLICT"]);
    expect(res.errors?.[0]?.extensions?.revision).toBe(3);
    expect(await latestVersion()).toBe(before);
    const [row] = await database.sql("SELECT name, revision FROM campaign WHERE id = 'upd-conflict'");
    expect(row).toEqual({ name: "Renamed", revision: 3 });
  });

  it("lets exactly one of several concurrent updates with the same expectedRevision succeed", async () => {
    await gql(CREATE, { input: base("race", nowhere) });
    const before = await latestVersion();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        gql(UPDATE, { id: "race", input: { name: `Writer ${i}`, expectedRevision: 1 } }),
      ),
    );
    const won = results.filter((r) => !r.errors);
    const lost = results.filter((r) => r.errors);
    expect(won).toHaveLength(1);
    expect(lost.map(codes)).toEqual(Array.from({ length: 5 }, () => ["CONFLICT"]));
    expect(await latestVersion()).toBe(before + 1);
    const [row] = await database.sql<{ name: string; revision: number }>(
      "SELECT name, revision FROM campaign WHERE id = 'race'",
    );
    expect(row?.revision).toBe(2);
    expect(row?.name).toBe(won[0]?.data?.updateCampaign.campaign.name);
  });

  it("answers NOT_FOUND for an unknown campaign", async () => {
    expect(codes(await gql(UPDATE, { id: "missing", input: { name: "x" } }))).toEqual(["NOT_FOUND"]);
  });

  it("checks endsAt > startsAt against the stored dates, and reports bad id and input together", async () => {
    expect((await gql(CREATE, { input: base("upd-dates", nowhere) })).errors).toBeUndefined();
    expect(
      (await gql(UPDATE, { id: "upd-dates", input: { startsAt: "2030-01-01T00:00:00Z" } })).errors,
    ).toBeUndefined();
    const before = await latestVersion();
    const res = await gql(UPDATE, { id: "upd-dates", input: { endsAt: "2029-01-01T00:00:00Z" } });
    expect(codes(res)).toEqual(["BAD_USER_INPUT"]);
    expect(res.errors?.[0]?.extensions?.fields).toEqual({ "input.endsAt": "must be after startsAt" });
    expect(await latestVersion()).toBe(before);

    const both = await gql(UPDATE, { id: "Not Valid", input: { name: null, imageUrl: "nope", targeting: null } });
    expect(Object.keys(both.errors?.[0]?.extensions?.fields ?? {}).sort()).toEqual(
      ["id", "input.imageUrl", "input.name", "input.targeting"].sort(),
    );
  });
});

describe("deleteCampaign", () => {
  it("deletes the campaign and its rules as one version; delivery drops it at once", async () => {
    await gql(CREATE, { input: base("gone", { targeting: { include: { apps: ["gone.app"] } } }) });
    expect((await deliver(server.url, "gone.app", "ios", "FR")).cids).toContain("gone");
    const before = await latestVersion();
    const res = await gql(DELETE, { id: "GONE" });
    expect(res.data?.deleteCampaign).toEqual({ version: before + 1, propagated: true, campaign: null });
    expect(await database.sql("SELECT * FROM targeting_rule WHERE campaign_id = 'gone'")).toEqual([]);
    const served = await deliver(server.url, "gone.app", "ios", "FR");
    expect(served.version).toBe(before + 1);
    expect(served.cids).not.toContain("gone");
    const items = await database.sql("SELECT kind, campaign_id FROM change_log_item WHERE version = $1", [before + 1]);
    expect(items).toEqual([{ kind: "CAMPAIGN_DELETED", campaign_id: "gone" }]);
  });

  it("answers NOT_FOUND for an unknown campaign and BAD_USER_INPUT for an invalid id", async () => {
    expect((await gql(CREATE, { input: base("gone-twice", nowhere) })).errors).toBeUndefined();
    expect((await gql(DELETE, { id: "gone-twice" })).errors).toBeUndefined();
    expect(codes(await gql(DELETE, { id: "gone-twice" }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(DELETE, { id: "never-made" }))).toEqual(["NOT_FOUND"]);
    expect(codes(await gql(DELETE, { id: "" }))).toEqual(["BAD_USER_INPUT"]);
  });
});

describe("unexpected errors", () => {
  it("are masked: a generic message and code, no SQL, constraint names or stack (NODE_ENV=production)", async () => {
    // A constraint the API knows nothing about, added behind its back.
    await database.sql(`ALTER TABLE campaign ADD CONSTRAINT test_no_boom CHECK (name <> 'boom')`);
    const before = await latestVersion();
    const res = await gql(CREATE, { input: base("boom", { name: "boom" }) });
    expect(res.errors).toEqual([
      expect.objectContaining({ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR" } }),
    ]);
    expect(JSON.stringify(res)).not.toMatch(/test_no_boom|INSERT|prisma|stack|\.ts/i);
    expect(await latestVersion()).toBe(before);
    await database.sql("ALTER TABLE campaign DROP CONSTRAINT test_no_boom");
  });
});

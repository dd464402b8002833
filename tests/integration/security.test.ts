// Security over real HTTP against a started server (NODE_ENV=production) on a fresh Postgres database:
// bearer-token authentication and the viewer/admin split (CONTRACT §4), injection payloads stored and
// served literally, payloads in validated fields refused, masked unexpected errors, and tokens kept
// out of the logs.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import {
  ADMIN_TOKEN,
  codes,
  type GraphQLResponse,
  graphqlClient,
  type Loose,
  VIEWER_TOKEN,
} from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let admin: ReturnType<typeof graphqlClient>;

const ENV = { ADMIN_TOKEN, VIEWER_TOKEN, NODE_ENV: "production" };
const TABLES = [
  "campaign",
  "targeting_rule",
  "category",
  "category_app",
  "change_log",
  "change_log_item",
  "change_counter",
];

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ...ENV } });
  admin = graphqlClient(server.url);
  const seeded = await admin(`mutation {
    createCampaign(input: { id: "existing", name: "Existing", imageUrl: "https://cdn.example/e.png", cta: "Go" }) { version }
    upsertCategory(input: { id: "existing-cat", name: "Existing", apps: ["someapp"] }) { version } }`);
  expect(seeded.errors).toBeUndefined();
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

/** Everything a write would change: the version counter and every row of the catalogue. */
async function catalogue() {
  return {
    version: (await database.sql("SELECT version FROM change_counter"))[0]?.version ?? 0,
    campaigns: await database.sql(
      "SELECT id, name, image_url, cta, status, priority, revision FROM campaign ORDER BY id",
    ),
    rules: await database.sql("SELECT * FROM targeting_rule ORDER BY 1, 2, 3, 4"),
    categories: await database.sql("SELECT id, name FROM category ORDER BY id"),
    categoryApps: await database.sql("SELECT * FROM category_app ORDER BY 1, 2"),
  };
}

/** POST /graphql with exactly these headers (no Authorization unless given). */
async function post(query: string, headers: Record<string, string>, variables: Loose = {}, path = "/graphql") {
  const res = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    ...(JSON.parse(text) as Omit<GraphQLResponse, "status" | "headers">),
  };
}

const QUERY = "{ campaigns { id name } indexStatus { version } }";
const MUTATION = `mutation { createCampaign(input: {
  id: "intruder", name: "Intruder", imageUrl: "https://evil.example/x.png", cta: "Click" }) { version } }`;

// Each write the API has, aimed at existing rows where it needs one.
const MUTATIONS = [
  MUTATION,
  `mutation { updateCampaign(id: "existing", input: { name: "Changed" }) { version } }`,
  `mutation { deleteCampaign(id: "existing") { version } }`,
  `mutation { importCampaigns(campaigns: [{ id: "imported", name: "I", imageUrl: "https://x.example/i.png", cta: "Go" }]) { count } }`,
  `mutation { upsertCategory(input: { id: "existing-cat", name: "Changed", apps: ["other"] }) { version } }`,
  `mutation { deleteCategory(id: "existing-cat") { version } }`,
];

describe("authentication", () => {
  const badHeaders: [string, Record<string, string>][] = [
    ["no Authorization header", {}],
    ["an unknown token", { authorization: "Bearer definitely-not-a-configured-token" }],
    ["the admin token with one character more", { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ["the admin token with one character less", { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
    ["the admin token upper-cased", { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }],
    ["the bare token without a scheme", { authorization: ADMIN_TOKEN }],
    ["another scheme", { authorization: `Basic ${ADMIN_TOKEN}` }],
    [
      "Basic with base64 credentials",
      { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}` },
    ],
    ["Token scheme", { authorization: `Token ${ADMIN_TOKEN}` }],
    ["scheme glued to the token", { authorization: `Bearer${ADMIN_TOKEN}` }],
    ["scheme only", { authorization: "Bearer" }],
    ["scheme and spaces", { authorization: "Bearer    " }],
    ["two tokens", { authorization: `Bearer ${VIEWER_TOKEN} ${ADMIN_TOKEN}` }],
    ["two credentials, comma-separated", { authorization: `Bearer wrong, Bearer ${ADMIN_TOKEN}` }],
    ["an empty header", { authorization: "" }],
    ["the token quoted", { authorization: `Bearer "${ADMIN_TOKEN}"` }],
    ["the token in another header", { "x-api-key": ADMIN_TOKEN, "x-auth-token": ADMIN_TOKEN, token: ADMIN_TOKEN }],
    ["the token as a cookie", { cookie: `token=${ADMIN_TOKEN}; authorization=Bearer%20${ADMIN_TOKEN}` }],
    ["Proxy-Authorization", { "proxy-authorization": `Bearer ${ADMIN_TOKEN}` }],
  ];

  it.each(badHeaders)("refuses %s with UNAUTHENTICATED and 401, for a query and a mutation", async (_name, headers) => {
    const before = await catalogue();
    for (const query of [QUERY, MUTATION]) {
      const res = await post(query, headers);
      expect(res.status, query).toBe(401);
      expect(codes(res as GraphQLResponse)).toEqual(["UNAUTHENTICATED"]);
      expect(res.data ?? null).toBeNull();
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect(await catalogue()).toEqual(before);
  });

  it("accepts the scheme in any case and surrounding blanks (RFC 7235), and only the configured tokens", async () => {
    for (const authorization of [`bearer ${ADMIN_TOKEN}`, `BEARER  ${ADMIN_TOKEN}`, `Bearer\t${ADMIN_TOKEN}`]) {
      expect((await post(QUERY, { authorization })).errors).toBeUndefined();
    }
  });

  it("uses the first of two Authorization headers, never a later one", async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ query: QUERY });
      const socket = net.connect(server.port, "127.0.0.1", () =>
        socket.end(
          `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json\r\n` +
            `Authorization: Bearer wrong-token\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        ),
      );
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 401/);
    expect(response).toContain("UNAUTHENTICATED");
  });

  it("never takes a token from the query string or the body", async () => {
    const before = await catalogue();
    const params = [
      `token=${ADMIN_TOKEN}`,
      `access_token=${ADMIN_TOKEN}`,
      `authorization=${encodeURIComponent(`Bearer ${ADMIN_TOKEN}`)}`,
      `Authorization=${encodeURIComponent(`Bearer ${ADMIN_TOKEN}`)}`,
      `api_key=${ADMIN_TOKEN}`,
    ];
    for (const param of params) {
      // GET with the operation in the query string, and POST with the operation in the body.
      const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent(QUERY)}&${param}`, {
        headers: { accept: "application/json" },
      });
      expect(get.status, param).toBe(401);
      expect(codes((await get.json()) as GraphQLResponse)).toEqual(["UNAUTHENTICATED"]);
      for (const query of [QUERY, MUTATION]) {
        const res = await post(query, {}, {}, `/graphql?${param}`);
        expect(res.status, `${param} ${query}`).toBe(401);
        expect(codes(res as GraphQLResponse)).toEqual(["UNAUTHENTICATED"]);
      }
    }
    // In the JSON body (extensions, variables) or a form field.
    const inBody = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        query: MUTATION,
        variables: { authorization: `Bearer ${ADMIN_TOKEN}`, token: ADMIN_TOKEN },
        extensions: { authorization: `Bearer ${ADMIN_TOKEN}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
      }),
    });
    expect(inBody.status).toBe(401);
    const form = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ query: MUTATION, access_token: ADMIN_TOKEN, authorization: `Bearer ${ADMIN_TOKEN}` }),
    });
    expect(form.status).toBe(401);
    expect(await catalogue()).toEqual(before);
  });
});

describe("introspection, body size and the generated admin token", () => {
  it("refuses introspection without a token and allows it with one", async () => {
    const introspection = "{ __schema { queryType { name } mutationType { name } } }";
    expect(codes(await graphqlClient(server.url, null)(introspection))).toEqual(["UNAUTHENTICATED"]);
    const res = await graphqlClient(server.url, VIEWER_TOKEN)(introspection);
    expect(res.data).toEqual({ __schema: { queryType: { name: "Query" }, mutationType: { name: "Mutation" } } });
  });

  it("refuses a declared body over 32 MiB before reading it (413)", async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, "127.0.0.1", () =>
        socket.write(
          // With a valid token: without one the answer is 401, before any size check (CONTRACT §4).
          `POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{`,
        ),
      );
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk.toString();
        if (data.includes("\r\n\r\n")) socket.destroy();
      });
      socket.on("close", () => resolve(data));
      socket.on("error", reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 413/);
  });

  it("generates a random admin token when ADMIN_TOKEN is unset, logs it once, and accepts only it", async () => {
    const other = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN: "", VIEWER_TOKEN: "" } });
    try {
      const lines = other.logs.filter((l) => typeof l === "object" && l !== null && "adminToken" in l) as {
        adminToken: string;
        level: number;
      }[];
      expect(lines).toHaveLength(1);
      const token = lines[0]?.adminToken ?? "";
      expect(lines[0]?.level).toBe(40); // warn
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(token).not.toBe(ADMIN_TOKEN);
      expect((await graphqlClient(other.url, token)("{ campaigns { id } }")).errors).toBeUndefined();
      expect(codes(await graphqlClient(other.url, ADMIN_TOKEN)("{ campaigns { id } }"))).toEqual(["UNAUTHENTICATED"]);
      // VIEWER_TOKEN unset: no viewer access at all.
      expect(codes(await graphqlClient(other.url, VIEWER_TOKEN)("{ campaigns { id } }"))).toEqual(["UNAUTHENTICATED"]);
    } finally {
      await other.stop();
    }
  });
});

describe("authorisation", () => {
  const viewer = () => graphqlClient(server.url, VIEWER_TOKEN);

  it("lets the viewer token query", async () => {
    const res = await viewer()(
      `{ campaigns { id } categories { id apps } indexStatus { version } campaign(id: "existing") { name } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.campaign).toEqual({ name: "Existing" });
  });

  it.each(MUTATIONS)("answers FORBIDDEN to the viewer and writes nothing: %s", async (mutation) => {
    const before = await catalogue();
    const res = await viewer()(mutation);
    expect(res.status).toBeLessThan(500);
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(res.data ?? null).toBeNull();
    expect(await catalogue()).toEqual(before);
  });

  it("answers FORBIDDEN to a viewer mutation hidden among queries, writing nothing", async () => {
    const before = await catalogue();
    const res = await viewer()(`mutation {
      a: createCampaign(input: { id: "sneaky", name: "S", imageUrl: "https://x.example/s.png", cta: "Go" }) { version }
      b: deleteCampaign(id: "existing") { version } }`);
    expect(codes(res).every((code) => code === "FORBIDDEN")).toBe(true);
    expect(codes(res).length).toBeGreaterThan(0);
    expect(await catalogue()).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

/** Injection-looking text, each at most 50 characters (the cta limit), without surrounding blanks. */
const PAYLOADS = [
  "'; DROP TABLE campaign; --",
  "<script>alert(1)</script>",
  '" OR 1=1 --',
  `\${7*7}`,
  "{{7*7}}",
  "Robert'); DROP TABLE category;--",
  "1; SELECT pg_sleep(10)",
  "\\'; DELETE FROM change_log; --",
  "%27%20OR%201%3D1",
  "<img src=x onerror=alert(1)>",
  "Ünïcödé ✓ 日本語 🎯 עברית",
  "e\u0301 a\u200bb \u202eevil",
  "$1 ? :name @p0 %s",
  "null",
];

const CAMPAIGN_FIELDS = "id name imageUrl cta targeting { include { apps } }";
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version campaign { ${CAMPAIGN_FIELDS} } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { campaign { ${CAMPAIGN_FIELDS} } } }`;
const UPSERT_CATEGORY = `mutation($input: CategoryInput!) { upsertCategory(input: $input) { category { id name apps } } }`;

const imageUrlWith = (payload: string) => `https://cdn.example/ads/${payload}/x.png?q=${payload}&r=1`;

async function tablesExist(): Promise<void> {
  for (const table of TABLES) {
    const [row] = await database.sql<{ exists: string | null }>("SELECT to_regclass($1)::text AS exists", [
      `public.${table}`,
    ]);
    expect(row?.exists, table).toBe(table);
  }
}

describe("injection payloads in free-text fields", () => {
  it("stores and returns name, cta and imageUrl literally on create and update, and serves them on /v1/delivery", async () => {
    for (const [i, payload] of PAYLOADS.entries()) {
      const id = `payload-${i}`;
      const input = {
        id,
        name: payload,
        imageUrl: imageUrlWith(payload),
        cta: payload,
        targeting: { include: { apps: [`payload-app-${i}`] } },
      };
      const created = await admin(CREATE, { input });
      expect(created.errors, payload).toBeUndefined();
      expect(created.data?.createCampaign.campaign).toEqual({
        id,
        name: payload,
        imageUrl: imageUrlWith(payload),
        cta: payload,
        targeting: { include: { apps: [`payload-app-${i}`] } },
      });
      // Read back through the API and straight from the row.
      const read = await admin(`query($id: ID!) { campaign(id: $id) { name imageUrl cta } }`, { id });
      expect(read.data?.campaign).toEqual({ name: payload, imageUrl: imageUrlWith(payload), cta: payload });
      const [row] = await database.sql("SELECT name, image_url, cta FROM campaign WHERE id = $1", [id]);
      expect(row).toEqual({ name: payload, image_url: imageUrlWith(payload), cta: payload });
      // Devices get the same text, JSON-encoded.
      const delivered = await fetch(
        `${server.url}/v1/delivery?${new URLSearchParams({ app: `payload-app-${i}`, os: "ios", country: "US" })}`,
      );
      expect(delivered.status).toBe(200);
      expect(delivered.headers.get("content-type")).toMatch(/^application\/json/);
      const ads = (await delivered.json()) as { cid: string; img: string; cta: string }[];
      expect(ads.find((ad) => ad.cid === id)).toEqual({ cid: id, img: imageUrlWith(payload), cta: payload });
    }
    // Update: each campaign takes the next payload.
    for (const [i] of PAYLOADS.entries()) {
      const next = PAYLOADS[(i + 1) % PAYLOADS.length] as string;
      const updated = await admin(UPDATE, {
        id: `payload-${i}`,
        input: { name: next, cta: next, imageUrl: imageUrlWith(next) },
      });
      expect(updated.errors, next).toBeUndefined();
      expect(updated.data?.updateCampaign.campaign).toMatchObject({
        name: next,
        cta: next,
        imageUrl: imageUrlWith(next),
      });
      const [row] = await database.sql("SELECT name, image_url, cta FROM campaign WHERE id = $1", [`payload-${i}`]);
      expect(row).toEqual({ name: next, image_url: imageUrlWith(next), cta: next });
    }
    await tablesExist();
    // This test's campaigns only (payload-0 …), not the app-id test's payload-app-target.
    expect(await database.sql("SELECT id FROM campaign WHERE id ~ '^payload-[0-9]+$'")).toHaveLength(PAYLOADS.length);
  });

  it("stores and returns a category's name literally", async () => {
    for (const [i, payload] of PAYLOADS.entries()) {
      const id = `payload-cat-${i}`;
      const res = await admin(UPSERT_CATEGORY, { input: { id, name: payload, apps: ["someapp"] } });
      expect(res.errors, payload).toBeUndefined();
      expect(res.data?.upsertCategory.category).toEqual({ id, name: payload, apps: ["someapp"] });
      const read = await admin(`query($id: ID!) { category(id: $id) { name } }`, { id });
      expect(read.data?.category).toEqual({ name: payload });
      const [row] = await database.sql("SELECT name FROM category WHERE id = $1", [id]);
      expect(row).toEqual({ name: payload });
    }
    await tablesExist();
  });

  it("takes payloads without blanks as app ids (printable, no spaces: CONTRACT §2), stored lower-cased and matched literally", async () => {
    const apps = ["<script>alert(1)</script>", `\${7*7}`, "{{7*7}}", "'or'1'='1", '";--', "ünïcödé🎯"];
    const res = await admin(UPSERT_CATEGORY, { input: { id: "payload-apps", name: "Apps", apps } });
    expect(res.errors).toBeUndefined();
    const stored = [...apps.map((app) => app.toLowerCase())].sort();
    expect(res.data?.upsertCategory.category.apps).toEqual(stored);
    const rows = await database.sql<{ app: string }>(
      "SELECT app FROM category_app WHERE category_id = 'payload-apps' ORDER BY app",
    );
    expect(rows.map((r) => r.app)).toEqual(stored);
    const created = await admin(CREATE, {
      input: {
        id: "payload-app-target",
        name: "Target",
        imageUrl: "https://cdn.example/t.png",
        cta: "Go",
        priority: 1000,
        targeting: { include: { categories: ["payload-apps"] } },
      },
    });
    expect(created.errors).toBeUndefined();
    for (const app of apps) {
      const res = await fetch(
        `${server.url}/v1/delivery?${new URLSearchParams({ app: app.toUpperCase(), os: "ios", country: "US" })}`,
      );
      expect(res.status, app).toBe(200);
      expect(((await res.json()) as { cid: string }[])[0]?.cid, app).toBe("payload-app-target");
    }
    await tablesExist();
  });
});

describe("injection payloads in validated fields", () => {
  // Each payload has blanks, quotes or brackets: never an id, app, os token or country.
  const REJECTED = PAYLOADS.filter((p) => /[\s'"<>;{}$%]/.test(p));
  const valid = { name: "N", imageUrl: "https://cdn.example/n.png", cta: "Go" };

  const cases: [string, string, (p: string) => Loose, string][] = [
    ["createCampaign id", CREATE, (p) => ({ input: { ...valid, id: p } }), "input.id"],
    [
      "include apps",
      CREATE,
      (p) => ({ input: { ...valid, id: "v1", targeting: { include: { apps: [p] } } } }),
      "input.targeting.include.apps.0",
    ],
    [
      "include countries",
      CREATE,
      (p) => ({ input: { ...valid, id: "v2", targeting: { include: { countries: [p] } } } }),
      "input.targeting.include.countries.0",
    ],
    [
      "exclude os",
      CREATE,
      (p) => ({ input: { ...valid, id: "v3", targeting: { exclude: { os: ["ios", p] } } } }),
      "input.targeting.exclude.os.1",
    ],
    [
      "include categories",
      CREATE,
      (p) => ({ input: { ...valid, id: "v4", targeting: { include: { categories: [p] } } } }),
      "input.targeting.include.categories.0",
    ],
    ["updateCampaign id", UPDATE, (p) => ({ id: p, input: { name: "x" } }), "id"],
    [
      "updateCampaign countries",
      UPDATE,
      (p) => ({ id: "existing", input: { targeting: { include: { countries: [p] } } } }),
      "input.targeting.include.countries.0",
    ],
    ["deleteCampaign id", "mutation($id: ID!) { deleteCampaign(id: $id) { version } }", (p) => ({ id: p }), "id"],
    [
      "importCampaigns id",
      "mutation($c: [CreateCampaignInput!]!) { importCampaigns(campaigns: $c) { count } }",
      (p) => ({
        c: [
          { ...valid, id: "fine" },
          { ...valid, id: p },
        ],
      }),
      "campaigns.1.id",
    ],
    ["upsertCategory id", UPSERT_CATEGORY, (p) => ({ input: { id: p, name: "C", apps: [] } }), "input.id"],
    [
      "upsertCategory apps",
      UPSERT_CATEGORY,
      (p) => ({ input: { id: "v5", name: "C", apps: ["ok", p] } }),
      "input.apps.1",
    ],
    ["deleteCategory id", "mutation($id: ID!) { deleteCategory(id: $id) { version } }", (p) => ({ id: p }), "id"],
  ];

  it.each(cases)(
    "refuses payloads in %s with BAD_USER_INPUT naming the field, writing nothing",
    async (_name, query, variables, field) => {
      const before = await catalogue();
      for (const payload of REJECTED) {
        // Apps may hold any printable text without blanks: only the payloads with blanks are invalid there.
        if (field.includes("apps") && !/\s/.test(payload)) continue;
        const res = await admin(query, variables(payload));
        expect(codes(res), `${payload} → ${JSON.stringify(res.errors)}`).toEqual(["BAD_USER_INPUT"]);
        expect(Object.keys(res.errors?.[0]?.extensions?.fields ?? {}), payload).toEqual([field]);
      }
      expect(await catalogue()).toEqual(before);
      await tablesExist();
    },
  );

  it("looks payload ids up as nothing, not as SQL", async () => {
    for (const payload of REJECTED) {
      const res = await admin(`query($id: ID!) { campaign(id: $id) { id } category(id: $id) { id } }`, { id: payload });
      expect(res.errors).toBeUndefined();
      expect(res.data).toEqual({ campaign: null, category: null });
      const page = await admin(`query($after: String) { campaigns(after: $after, first: 500) { id } }`, {
        after: payload,
      });
      expect(page.errors).toBeUndefined();
    }
    await tablesExist();
  });
});

// ---------------------------------------------------------------------------------------------

/** What must never reach a client: stack frames, file paths, SQL, the ORM, internal error objects. */
function assertNothingLeaks(text: string, context: string): void {
  for (const pattern of [
    /\/work\//,
    /\.ts:\d*/,
    /\.js:\d+/,
    /\n\s+at /,
    /\bat \S+ \(/,
    /prisma/i,
    /\bSELECT\b/,
    /\bINSERT\b/,
    /\bUPDATE\b/,
    /"stack"/,
    /node_modules/,
    /bullseye_test_/,
  ]) {
    expect(text, `${context}: ${pattern}`).not.toMatch(pattern);
  }
}

describe("error bodies in production", () => {
  it("masks an unexpected database error (a trigger raising an exception) as 'Unexpected error.'", async () => {
    // A DBA's trigger the API knows nothing about; its message looks like everything that must not leak.
    await database.sql(`CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      RAISE EXCEPTION 'SELECT secret FROM campaign; INSERT at /work/main/src/x.ts:42 (prisma)'; END $$`);
    await database.sql(`CREATE TRIGGER refuse_boom BEFORE INSERT ON campaign FOR EACH ROW
      WHEN (NEW.name = 'boom') EXECUTE FUNCTION refuse_boom()`);
    try {
      const before = await catalogue();
      const res = await post(
        CREATE,
        { authorization: `Bearer ${ADMIN_TOKEN}` },
        {
          input: { id: "boom", name: "boom", imageUrl: "https://cdn.example/b.png", cta: "Go" },
        },
      );
      expect(res.status).toBeLessThan(500);
      expect(res.errors).toHaveLength(1);
      expect(res.errors?.[0]?.message).toBe("Unexpected error.");
      expect(res.errors?.[0]?.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
      assertNothingLeaks(res.text, "trigger exception");
      expect(res.text).not.toMatch(/at |secret/);
      expect(await catalogue()).toEqual(before);
    } finally {
      await database.sql("DROP TRIGGER refuse_boom ON campaign");
      await database.sql("DROP FUNCTION refuse_boom()");
    }
  });

  it("masks an update that violates a constraint the validation does not know", async () => {
    await database.sql(`ALTER TABLE campaign ADD CONSTRAINT no_forbidden_names CHECK (name <> 'Forbidden name')`);
    try {
      const before = await catalogue();
      const res = await post(
        UPDATE,
        { authorization: `Bearer ${ADMIN_TOKEN}` },
        { id: "existing", input: { name: "Forbidden name" } },
      );
      expect(res.status).toBeLessThan(500);
      expect(res.errors?.[0]?.message).toBe("Unexpected error.");
      expect(res.errors?.[0]?.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
      assertNothingLeaks(res.text, "check constraint");
      expect(res.text).not.toMatch(/at |no_forbidden_names|constraint/i);
      expect(await catalogue()).toEqual(before);
    } finally {
      await database.sql("ALTER TABLE campaign DROP CONSTRAINT no_forbidden_names");
    }
  });

  it("masks a query whose table is gone", async () => {
    await database.sql("ALTER TABLE category RENAME TO category_moved");
    try {
      const res = await post("{ categories { id name } }", { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(res.status).toBeLessThan(500);
      expect(res.errors?.[0]?.message).toBe("Unexpected error.");
      assertNothingLeaks(res.text, "missing table");
      expect(res.text).not.toMatch(/at |category_moved|relation|does not exist/i);
    } finally {
      await database.sql("ALTER TABLE category_moved RENAME TO category");
    }
  });

  it("leaks nothing in any expected error either", async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const requests: [string, () => Promise<{ status: number; text: string }>][] = [
      ["unauthenticated", () => post(QUERY, {})],
      ["forbidden", () => post(MUTATION, { authorization: `Bearer ${VIEWER_TOKEN}` })],
      ["bad user input", () => post(CREATE, auth, { input: { id: "Not An Id", name: "", imageUrl: "nope", cta: "" } })],
      ["not found", () => post(`mutation { deleteCampaign(id: "nothing-here") { version } }`, auth)],
      [
        "conflict",
        () =>
          post(
            `mutation { createCampaign(input: { id: "existing", name: "E", imageUrl: "https://x.example/e.png", cta: "Go" }) { version } }`,
            auth,
          ),
      ],
      [
        "stale revision",
        () =>
          post(
            `mutation { updateCampaign(id: "existing", input: { name: "X", expectedRevision: 999 }) { version } }`,
            auth,
          ),
      ],
      ["syntax error", () => post("{ campaigns { id ", auth)],
      ["validation error", () => post("{ campaigns { nope } }", auth)],
      ["wrong variable type", () => post("query($n: Int) { campaigns(first: $n) { id } }", auth, { n: "many" })],
      ["out of range", () => post("{ campaigns(first: 100000) { id } }", auth)],
      ["too deep", () => post(`{${"a { ".repeat(500)}b${" }".repeat(500)}}`, auth)],
      [
        "mutation over GET",
        () =>
          fetch(`${server.url}/graphql?query=${encodeURIComponent(MUTATION)}`, {
            headers: { ...auth, accept: "application/json" },
          }).then(async (r) => ({ status: r.status, text: await r.text() })),
      ],
      [
        "malformed JSON",
        () =>
          fetch(`${server.url}/graphql`, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json", accept: "application/json" },
            body: '{"query": "{ campaigns { id } }", ',
          }).then(async (r) => ({ status: r.status, text: await r.text() })),
      ],
      [
        "bad GET variables",
        () =>
          fetch(`${server.url}/graphql?query=${encodeURIComponent(QUERY)}&variables=%7B`, {
            headers: { ...auth, accept: "application/json" },
          }).then(async (r) => ({ status: r.status, text: await r.text() })),
      ],
      [
        "unsupported content type",
        () =>
          fetch(`${server.url}/graphql`, {
            method: "POST",
            headers: { ...auth, "content-type": "text/plain", accept: "application/json" },
            body: QUERY,
          }).then(async (r) => ({ status: r.status, text: await r.text() })),
      ],
      [
        "delivery 400",
        () =>
          fetch(`${server.url}/v1/delivery`, { method: "POST", body: "{not json" }).then(async (r) => ({
            status: r.status,
            text: await r.text(),
          })),
      ],
      [
        "delivery 413",
        () =>
          fetch(`${server.url}/v1/delivery`, { method: "POST", body: "x".repeat(5000) }).then(async (r) => ({
            status: r.status,
            text: await r.text(),
          })),
      ],
      [
        "unknown route",
        () =>
          fetch(`${server.url}/admin/../../etc/passwd`).then(async (r) => ({ status: r.status, text: await r.text() })),
      ],
    ];
    for (const [name, send] of requests) {
      const { status, text } = await send();
      expect(status, name).toBeLessThan(500);
      expect(text.length, name).toBeGreaterThan(0);
      assertNothingLeaks(text, name);
      expect(text, name).not.toContain("Unexpected error.");
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("tokens and logs", () => {
  it("never logs the admin or viewer token, at info or at debug with SQL logging", async () => {
    const wrongToken = "a-wrong-token-that-must-not-be-logged-either";
    const check = (logs: unknown[], level: string) => {
      const text = logs.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n");
      expect(text, level).not.toContain(ADMIN_TOKEN);
      expect(text, level).not.toContain(VIEWER_TOKEN);
      expect(text, level).not.toContain(wrongToken);
      // ADMIN_TOKEN is set: no generated token is announced.
      expect(
        logs.some((line) => typeof line === "object" && line !== null && "adminToken" in line),
        level,
      ).toBe(false);
    };
    const traffic = async (url: string) => {
      const as = (token: string) => graphqlClient(url, token);
      expect((await as(ADMIN_TOKEN)(QUERY)).errors).toBeUndefined();
      expect(
        (
          await as(ADMIN_TOKEN)(
            `mutation { upsertCategory(input: { id: "log-check", name: "L", apps: ["a"] }) { version } }`,
          )
        ).errors,
      ).toBeUndefined();
      expect((await as(VIEWER_TOKEN)(QUERY)).errors).toBeUndefined();
      expect(codes(await as(VIEWER_TOKEN)(MUTATION))).toEqual(["FORBIDDEN"]);
      expect(codes(await as(wrongToken)(QUERY))).toEqual(["UNAUTHENTICATED"]);
      expect(codes(await as(ADMIN_TOKEN)(`mutation { deleteCampaign(id: "nothing-here") { version } }`))).toEqual([
        "NOT_FOUND",
      ]);
      // A failing request over GET, SSE and a subscription attempt carry the header too.
      await fetch(`${url}/graphql?query=${encodeURIComponent(QUERY)}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "application/json" },
      });
      const sse = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          "content-type": "application/json",
          accept: "text/event-stream",
        },
        body: JSON.stringify({ query: "{ indexStatus { version } }" }),
      });
      await sse.text();
      // Every line of the traffic above is logged once a later request's line is (lines are in order).
      const marker = `marker-${Math.random().toString(36).slice(2)}`;
      await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json", "x-request-id": marker },
        body: JSON.stringify({ query: QUERY }),
      }).then((res) => res.text());
      const logs = url === server.url ? server.logs : debugLogs;
      await expect
        .poll(() => logs.some((line) => (line as { reqId?: string }).reqId === marker), {
          message: "the marker request's log line",
        })
        .toBe(true);
    };
    let debugLogs: unknown[] = [];

    // Only what this traffic logs: earlier tests here put tokens in URLs on purpose (refused, not normal).
    const from = server.logs.length;
    await traffic(server.url);
    check(server.logs.slice(from), "info");

    const debug = await startServer({ env: { DATABASE_URL: database.url, ...ENV, LOG_LEVEL: "debug", LOG_SQL: "1" } });
    debugLogs = debug.logs;
    try {
      await traffic(debug.url);
      expect(debug.logs.length).toBeGreaterThan(10); // debug logging really is on
      check(debug.logs, "debug");
    } finally {
      await debug.stop();
    }
  });
});

// /graphql authentication and authorisation (CONTRACT §4): bearer tokens only, viewer reads, admin
// writes; GraphiQL loads on a browser GET; a generated admin token when ADMIN_TOKEN is unset.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;

const createMutation = `mutation {
  createCampaign(input: { id: "auth-test", name: "A", imageUrl: "https://x.example/a.png", cta: "Go" }) { version } }`;
const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN } });
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("GraphQL authentication", () => {
  it("fails the whole operation with UNAUTHENTICATED (401) without a token", async () => {
    const res = await graphqlClient(server.url, null)("{ campaigns { id } indexStatus { version } }");
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(codes(res)).toEqual(["UNAUTHENTICATED"]);
  });

  it("rejects an unknown token, and a token of the wrong scheme", async () => {
    expect(codes(await graphqlClient(server.url, "not-a-known-token-at-all")("{ campaigns { id } }"))).toEqual([
      "UNAUTHENTICATED",
    ]);
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: "{ campaigns { id } }" }),
    });
    expect(res.status).toBe(401);
  });

  it("does not accept a token in the query string", async () => {
    const query = encodeURIComponent("{ campaigns { id } }");
    for (const param of ["token", "access_token", "authorization"]) {
      const res = await fetch(`${server.url}/graphql?query=${query}&${param}=${ADMIN_TOKEN}`, {
        headers: { accept: "application/json" },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe(
        "UNAUTHENTICATED",
      );
    }
  });

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

  it("serves the GraphiQL page to a browser GET", async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/graphiql/i);
  });
});

describe("GraphQL authorisation", () => {
  it("lets the viewer token query", async () => {
    const res = await graphqlClient(
      server.url,
      VIEWER_TOKEN,
    )("{ campaigns { id } categories { id } indexStatus { version } }");
    expect(res.errors).toBeUndefined();
    expect(res.data?.campaigns).toEqual([]);
  });

  it("answers FORBIDDEN when the viewer mutates, and writes nothing", async () => {
    const before = await latestVersion();
    const res = await graphqlClient(server.url, VIEWER_TOKEN)(createMutation);
    expect(codes(res)).toEqual(["FORBIDDEN"]);
    expect(res.data ?? null).toBeNull();
    expect(await latestVersion()).toBe(before);
    expect(await database.sql("SELECT id FROM campaign")).toEqual([]);
  });

  it("lets the admin token mutate", async () => {
    const res = await graphqlClient(server.url, ADMIN_TOKEN)(createMutation);
    expect(res.errors).toBeUndefined();
    expect(res.data?.createCampaign.version).toBeGreaterThan(0);
  });
});

describe("generated admin token", () => {
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

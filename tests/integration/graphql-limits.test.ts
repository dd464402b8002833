// Limits on what one GraphQL operation may ask for, and the one log line each GraphQL request leaves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, graphqlClient } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } });
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("operation limits", () => {
  it("refuses too many aliases", async () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: indexStatus { version }`).join(" ");
    const res = await graphqlClient(server.url)(`{ ${aliases} }`);
    expect(res.status).toBeLessThan(500);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.message).toMatch(/aliases/i);
  });

  it("refuses a list page over 500", async () => {
    const res = await graphqlClient(server.url)("{ campaigns(first: 501) { id } }");
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("request log", () => {
  it("logs one line per GraphQL request with its id, operation and status, and never the token", async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${ADMIN_TOKEN}`,
        "x-request-id": "req-123",
      },
      body: JSON.stringify({ query: "query Status { indexStatus { version } }" }),
    });
    expect(res.headers.get("x-request-id")).toBe("req-123");
    await res.json();
    await new Promise((r) => setTimeout(r, 200));
    const lines = server.logs.filter((l) => (l as { reqId?: string }).reqId === "req-123");
    expect(lines).toEqual([
      expect.objectContaining({ msg: "graphql request", status: 200, path: "/graphql", operations: ["query Status"] }),
    ]);
    expect(JSON.stringify(server.logs)).not.toContain(ADMIN_TOKEN);
    // Delivery requests are not logged one by one.
    const before = server.logs.length;
    for (let i = 0; i < 20; i++) await (await fetch(`${server.url}/v1/delivery?app=a&os=ios&country=US`)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 200));
    expect(server.logs.length).toBe(before);
  });
});

// Losing Postgres after start: GraphQL answers UNAVAILABLE (no SQL, no stack), the process keeps
// running, and the index-backed parts (delivery, indexStatus, /v1/delivery) keep answering.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;
let gql: ReturnType<typeof graphqlClient>;
let dropped = false;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } });
  gql = graphqlClient(server.url);
  const created = await gql(`mutation {
    createCampaign(input: { id: "survivor", name: "S", imageUrl: "https://x.example/s.png", cta: "Go" }) { version } }`);
  expect(created.errors).toBeUndefined();
  // The database disappears under the running server (its connections are terminated).
  await database.drop();
  dropped = true;
});

afterAll(async () => {
  await server?.stop();
  if (!dropped) await database?.drop();
});

describe("database down after start", () => {
  it("answers UNAVAILABLE to queries and mutations that need the database, leaking nothing", async () => {
    for (const query of [
      `{ campaigns { id } }`,
      `{ categories { id } }`,
      `{ ruleChanges(sinceVersion: 0) { version } }`,
      `mutation { deleteCampaign(id: "survivor") { version } }`,
      `mutation { upsertCategory(input: { id: "x", name: "X", apps: [] }) { version } }`,
    ]) {
      const res = await gql(query);
      expect(codes(res), query).toEqual(["UNAVAILABLE"]);
      const text = JSON.stringify(res.errors);
      expect(text).not.toMatch(/prisma|SELECT|stack|bullseye_test|\.ts:/i);
    }
  });

  it("keeps serving delivery and indexStatus from the last index", async () => {
    const res = await gql(
      `{ indexStatus { version campaigns } delivery(app: "a", os: "ios", country: "US") { ads { cid } } }`,
    );
    expect(res.data).toEqual({ indexStatus: { version: 1, campaigns: 1 }, delivery: { ads: [{ cid: "survivor" }] } });
    expect(await deliver(server.url, "a", "ios", "US")).toEqual({ status: 200, version: 1, cids: ["survivor"] });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("database unreachable (closed port) after start", () => {
  it("answers UNAVAILABLE", async () => {
    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const closed = await startServer({
      env: { DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/nowhere`, ADMIN_TOKEN },
      waitReady: false,
    });
    try {
      const res = await graphqlClient(closed.url)(`{ campaigns { id } }`);
      expect(codes(res)).toEqual(["UNAVAILABLE"]);
      // No index loaded yet either: the index-backed queries say so with the same code.
      expect(codes(await graphqlClient(closed.url)(`{ indexStatus { version } }`))).toEqual(["UNAVAILABLE"]);
    } finally {
      await closed.stop();
    }
  });
});

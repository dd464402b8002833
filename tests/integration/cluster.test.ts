// WORKERS=2: two worker processes share the port, each a full replica; without Redis the primary relays
// changes between them, so read-your-write holds whichever worker answers; a dead worker is restarted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient, type Loose } from "../helpers/graphql.ts";
import { type RunningServer, startServer, waitUntil } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;

const liveReplicas = async () =>
  ((await graphqlClient(server.url)("{ indexStatus { replicas { id version } } }")).data?.indexStatus.replicas ??
    []) as Loose[];

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN, WORKERS: "2", REPLICA_ID: "host" } });
  await waitUntil(async () => (await liveReplicas()).length === 2, 15_000);
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("WORKERS=2 on one host", () => {
  it("runs two replicas on one port, each with its own id", async () => {
    expect((await liveReplicas()).map((r) => r.id)).toEqual(["host/w1", "host/w2"]);
  });

  it("read-your-write holds on whichever worker answers next", async () => {
    const res = await graphqlClient(server.url)(
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`,
      { input: { id: "everywhere", name: "x", imageUrl: "https://x/x.png", cta: "Go" } },
    );
    expect(res.data?.createCampaign.propagated).toBe(true);
    const version = res.data?.createCampaign.version;
    // New connections are spread over the workers: every answer already has the change.
    for (let i = 0; i < 20; i++) {
      const answer = await deliver(server.url, `app${i}`, "ios", "US");
      expect(answer.version).toBe(version);
      expect(answer.cids).toEqual(["everywhere"]);
    }
  });

  it("restarts a worker that dies", async () => {
    const workerPids = server.logs
      .filter((l) => (l as Loose).msg === "listening")
      .map((l) => (l as Loose).pid as number)
      .filter(Boolean);
    expect(workerPids.length).toBeGreaterThanOrEqual(2);
    process.kill(workerPids[0] as number, "SIGKILL");
    await waitUntil(() => server.logs.some((l) => (l as Loose).msg === "worker died; restarting it"), 5_000);
    await waitUntil(() => server.logs.filter((l) => (l as Loose).msg === "listening").length >= 3, 15_000);
    expect(server.process.exitCode).toBeNull();
    expect((await deliver(server.url, "app", "ios", "US")).cids).toEqual(["everywhere"]);
  });
});

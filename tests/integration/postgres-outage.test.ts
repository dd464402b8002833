// Postgres taken away (a TCP proxy in front of it, cut by the test) while devices keep calling:
// delivery answers from the last index, mutations fail fast with UNAVAILABLE and write nothing, and
// once Postgres is back everything works again without a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, deliver, graphqlClient } from "../helpers/graphql.ts";
import { type RunningServer, startServer, waitUntil } from "../helpers/server.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp-proxy.ts";

let database: TestDatabase;
let proxy: TcpProxy;
let server: RunningServer;

const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`;
const input = (id: string) => ({
  id,
  name: id,
  imageUrl: `https://x/${id}.png`,
  cta: "Go",
  targeting: { include: { apps: ["app"] } },
});

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startTcpProxy(5432);
  const url = new URL(database.url);
  url.port = String(proxy.port);
  server = await startServer({ env: { DATABASE_URL: url.toString(), ADMIN_TOKEN } });
});

afterAll(async () => {
  await server?.stop();
  await proxy?.close();
  await database?.drop();
});

describe("Postgres outage", () => {
  it("keeps delivering, fails mutations fast with UNAVAILABLE, and recovers by itself", async () => {
    const gql = graphqlClient(server.url);
    expect((await gql(CREATE, { input: input("before") })).errors).toBeUndefined();

    let failures = 0;
    let answered = 0;
    let polling = true;
    const devices = (async () => {
      while (polling) {
        const res = await fetch(`${server.url}/v1/delivery?app=app&os=ios&country=US`).catch(() => null);
        if (res?.status === 200) answered++;
        else failures++;
        await res?.arrayBuffer();
      }
    })();

    await proxy.cut();
    const started = Date.now();
    // Fails fast: the request itself is abandoned (and the test fails) past 2 s.
    const failed = await gql(CREATE, { input: input("during") }, { timeoutMs: 2_000 });
    const elapsed = Date.now() - started;
    expect(codes(failed)).toEqual(["UNAVAILABLE"]);
    expect(JSON.stringify(failed.errors)).not.toMatch(/prisma|SELECT|INSERT|\.ts:/i);

    // Ready (delivery works from memory) but degraded, with the reason.
    await waitUntil(async () => {
      const body = (await (await fetch(`${server.url}/readyz`)).json()) as { degraded?: boolean };
      return body.degraded === true;
    }, 5_000);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      degraded: true,
      postgres: expect.stringMatching(/^down/),
    });
    // Deliberate wait: the outage lasts a while, deliveries go on meanwhile.
    await new Promise((r) => setTimeout(r, 1_500));

    await proxy.restore();
    await waitUntil(async () => (await gql(CREATE, { input: input("after") })).errors === undefined, {
      timeoutMs: 10_000,
      everyMs: 200,
      what: "a write succeeds once Postgres is back",
    });
    polling = false;
    await devices;

    expect(failures).toBe(0);
    expect(answered).toBeGreaterThan(20);
    const rows = (await database.sql<{ id: string }>("SELECT id FROM campaign ORDER BY id")).map((r) => r.id);
    expect(rows).toContain("after");
    expect(rows).toContain("before");
    expect(rows).not.toContain("during");
    expect((await deliver(server.url, "app", "ios", "US")).cids).toEqual(rows);
    const ready2 = (await (await fetch(`${server.url}/readyz`)).json()) as { degraded: boolean };
    expect(ready2.degraded).toBe(false);
    console.log(
      `postgres outage: ${answered} deliveries answered, ${failures} failed; mutation failed after ${elapsed} ms`,
    );
  });

  it("a replica started while Postgres is unreachable retries, says why, and becomes ready when it returns", async () => {
    expect((await graphqlClient(server.url)(CREATE, { input: input("before-late-start") })).errors).toBeUndefined();
    const stored = (await database.sql<{ id: string }>("SELECT id FROM campaign ORDER BY id")).map((r) => r.id);
    await proxy.cut();
    const url = new URL(database.url);
    url.port = String(proxy.port);
    const late = await startServer({ env: { DATABASE_URL: url.toString(), ADMIN_TOKEN }, waitReady: false });
    try {
      // /readyz answers from the start ("loading the index"), then says why the load fails.
      await expect
        .poll(async () => ((await (await fetch(`${late.url}/readyz`)).json()) as { reason?: string }).reason, {
          timeout: 5_000,
          message: "/readyz should say the index is not loaded, and why",
        })
        .toMatch(/index not loaded/);
      expect((await fetch(`${late.url}/healthz`)).status).toBe(200);
      await expect
        .poll(() => late.logs.some((l) => (l as { msg?: string }).msg === "cannot load the index; retrying"), {
          message: "expected the log line 'cannot load the index; retrying'",
        })
        .toBe(true);
      await proxy.restore();
      await waitUntil(async () => (await fetch(`${late.url}/readyz`)).status === 200, {
        timeoutMs: 15_000,
        everyMs: 100,
        what: "the late replica ready once Postgres is back",
      });
      // Every campaign targets "app" and has the same priority: all of them, by id.
      expect((await deliver(late.url, "app", "ios", "US")).cids).toEqual(stored);
    } finally {
      await proxy.restore().catch(() => undefined);
      await late.stop();
    }
  });
});

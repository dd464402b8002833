// SIGTERM under load: every request the replica accepted before or during shutdown gets its answer;
// afterwards connections are refused (the port is closed); exit code 0.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

let database: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.sql(`INSERT INTO campaign (id, name, image_url, cta) VALUES ('all', 'All', 'https://x/a.png', 'Go')`);
  server = await startServer({
    env: {
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      SHUTDOWN_DRAIN_MS: "800",
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_PREFIX: uniquePrefix("shutdown"),
    },
  });
});

afterAll(async () => {
  await server?.stop("SIGKILL");
  await database?.drop();
});

const causeCode = (error: unknown) => (error as { cause?: { code?: string } }).cause?.code ?? String(error);

describe("graceful shutdown", () => {
  it("answers every accepted request, then refuses connections, and exits 0", async () => {
    const outcomes = { ok: 0, refused: 0, failed: [] as string[] };
    let signalled = false;
    let readyAfterSignal: number | undefined;
    const client = async () => {
      for (;;) {
        try {
          const res = await fetch(`${server.url}/v1/delivery`, {
            method: "POST",
            body: JSON.stringify({ app: "a", os: "ios", country: "US" }),
          });
          if (res.status !== 200) outcomes.failed.push(`status ${res.status}`);
          else outcomes.ok++;
          await res.arrayBuffer();
        } catch (error) {
          // Refused = the port is closed: the request was never accepted, clients retry elsewhere.
          if (signalled && causeCode(error) === "ECONNREFUSED") {
            outcomes.refused++;
            return;
          }
          outcomes.failed.push(causeCode(error));
          if (signalled) return;
        }
      }
    };

    const clients = Array.from({ length: 16 }, client);
    await new Promise((r) => setTimeout(r, 700));
    const exited = new Promise<number | null>((resolve) => server.process.once("exit", (code) => resolve(code)));
    server.process.kill("SIGTERM");
    signalled = true;
    // During the drain window the replica tells balancers to go away, while still answering.
    for (let i = 0; i < 20 && readyAfterSignal !== 503; i++) {
      readyAfterSignal = (await fetch(`${server.url}/readyz`).catch(() => null))?.status;
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.all(clients);
    const code = await exited;

    console.log(
      `shutdown under load: ${outcomes.ok} answered, ${outcomes.refused} refused after close, failed: ${outcomes.failed.length}`,
    );
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(100);
    expect(outcomes.refused).toBe(16);
    expect(readyAfterSignal).toBe(503);
    expect(code).toBe(0);
  });
});

describe("shutdown with a hung database", () => {
  it("exits (code 1, by its deadline) even when a query never returns", async () => {
    const proxy = await startTcpProxy(Number(new URL(database.url).port || 5432));
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    const hung = await startServer({
      env: { DATABASE_URL: viaProxy.toString(), ADMIN_TOKEN, SHUTDOWN_DRAIN_MS: "0", SHUTDOWN_TIMEOUT_MS: "1000" },
    });
    try {
      proxy.freeze();
      // A GraphQL read now waits on Postgres forever (and so does the index poll).
      const query = fetch(`${hung.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query: "{ campaigns { id } }" }),
      }).catch(() => null);
      await new Promise((r) => setTimeout(r, 300));
      const code = await hung.stop("SIGTERM");
      await query;
      expect(code).toBe(1);
      expect(hung.logs.some((l) => (l as { msg?: string }).msg === "shutdown did not finish in time; exiting")).toBe(
        true,
      );
    } finally {
      await hung.stop("SIGKILL");
      await proxy.close();
    }
  }, 30_000);
});

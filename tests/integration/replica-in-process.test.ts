// startReplica in-process (no child process, no process handlers), on the embedded Postgres: the port
// opens before the database, /readyz names each start-up phase while the rest answers 503 (delivery)
// or UNAVAILABLE (GraphQL, WebSocket), and stop() — after start-up or in the middle of it — leaves
// nothing running: no socket, no timer, no thread.
import { createHook } from "node:async_hooks";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { type Replica, startReplica } from "../../src/runtime/start.ts";
import { ADMIN_TOKEN } from "../helpers/graphql.ts";

const MIGRATIONS = readdirSync(path.resolve(import.meta.dirname, "../../prisma/migrations"), {
  withFileTypes: true,
}).filter((d) => d.isDirectory()).length;

const dataRoot = mkdtempSync(path.join(os.tmpdir(), "bullseye-in-process-"));
/** A data directory of its own for each test: each starts from no database at all. */
let dataDirs = 0;
const freshDataDir = () => path.join(dataRoot, `pglite-${++dataDirs}`);
const running: Replica[] = [];

afterAll(async () => {
  await Promise.allSettled(running.map((replica) => replica.stop()));
  rmSync(dataRoot, { recursive: true, force: true });
});

const config = (env: Record<string, string> = {}) =>
  loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    EMBEDDED_DATA_DIR: freshDataDir(),
    ADMIN_TOKEN,
    SHUTDOWN_DRAIN_MS: "0",
    INDEX_POLL_MS: "200",
    ...env,
  });
const log = createLogger("silent");

/** Kinds of resource a replica could leave behind: timers, sockets, servers, threads. */
const KINDS = new Set(["Timeout", "Immediate", "TCPWRAP", "TCPSERVERWRAP", "PIPEWRAP", "WORKER"]);
/** Vitest's own timers and sockets (its RPC with the main process) are not the replica's. */
const NOT_OURS = /node_modules\/(vitest|@vitest|tinypool|birpc)\//;

/**
 * Records every timer, socket, server and thread created from now on; `left()` lists those still
 * alive (with where they were made), whether or not they keep the process alive (unref'd ones count:
 * they keep memory).
 */
function trackResources() {
  const alive = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (KINDS.has(type)) alive.set(id, `${type}\n${new Error().stack?.split("\n").slice(2, 9).join("\n")}`);
    },
    destroy(id) {
      alive.delete(id);
    },
  }).enable();
  return {
    left: () => [...alive.values()].filter((where) => !NOT_OURS.test(where)),
    stop: () => hook.disable(),
  };
}

async function readyz(port: number): Promise<{ status: number; reason?: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  const body = (await res.json()) as { reason?: string };
  return { status: res.status, reason: body.reason };
}

/** The status a WebSocket upgrade to /graphql gets (or "open"). */
function upgradeStatus(port: number): Promise<number | "open"> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      port,
      host: "127.0.0.1",
      path: "/graphql",
      headers: {
        connection: "Upgrade",
        upgrade: "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-protocol": "graphql-transport-ws",
      },
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      resolve("open");
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

const portRefuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });

describe("startReplica in-process on the embedded Postgres", () => {
  it("answers from the first moment: /readyz names each start-up phase, delivery and GraphQL say 503/UNAVAILABLE until they can serve; stop() releases everything", async () => {
    const resources = trackResources();
    const replica = await startReplica(config(), log);
    running.push(replica);
    const base = `http://127.0.0.1:${replica.port}`;

    // Every phase /readyz reports, in order, until it turns 200.
    const phases: (string | undefined)[] = [];
    const observe = async () => {
      const now = await readyz(replica.port);
      if (now.status === 503 && now.reason !== phases.at(-1)) phases.push(now.reason);
      return now;
    };
    expect((await observe()).status).toBe(503);
    // The database is being created (a first start, seconds): everything answers, nothing is served yet.
    await expect
      .poll(async () => (await observe()).reason, { timeout: 30_000, interval: 20 })
      .toMatch(/^creating the embedded Postgres/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const delivery = await fetch(`${base}/v1/delivery?app=candycrush&os=ios&country=CA`);
    expect([delivery.status, await delivery.json()]).toEqual([503, { error: "index not loaded yet" }]);
    const graphql = await fetch(`${base}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: "{ indexStatus { version } }" }),
    });
    const refused = (await graphql.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(graphql.status).toBe(503);
    expect(refused.errors[0]?.extensions.code).toBe("UNAVAILABLE");
    expect(refused.errors[0]?.message).toMatch(/starting \(creating the embedded Postgres/);
    expect(await upgradeStatus(replica.port)).toBe(503);

    await expect
      .poll(async () => (await observe()).status, {
        timeout: 120_000,
        interval: 20,
        message: `/readyz never turned 200; phases seen: ${phases.join(" → ")}`,
      })
      .toBe(200);
    console.log(`start-up phases seen on /readyz: ${phases.join(" → ")}`);
    const order = [
      /^starting$/,
      /^creating the embedded Postgres/,
      /^checking migrations$/,
      new RegExp(`^applying migrations \\d+/${MIGRATIONS}$`),
      /^seeding the demo catalog$/,
      /^loading the index/,
    ];
    const rank = phases.map((phase) => order.findIndex((pattern) => pattern.test(String(phase))));
    expect(rank, `phases seen: ${phases.join(" → ")}`).not.toContain(-1);
    expect(rank, `phases seen out of order: ${phases.join(" → ")}`).toEqual([...rank].sort((a, b) => a - b));
    expect(phases.some((phase) => /^applying migrations /.test(String(phase)))).toBe(true);
    await replica.started;

    const served = await fetch(`${base}/v1/delivery?app=candycrush&os=ios&country=CA`);
    expect(served.status).toBe(200);
    await served.arrayBuffer();

    await replica.stop();
    expect(await portRefuses(replica.port)).toBe(true);
    await expect
      .poll(() => resources.left(), { timeout: 10_000, message: "timers, sockets or threads left after stop()" })
      .toEqual([]);
    resources.stop();
  }, 180_000);

  it("stops in the middle of start-up (the embedded Postgres still being created), releasing everything", async () => {
    const resources = trackResources();
    // Creating the database is not cut short: a deadline that allows for it.
    const replica = await startReplica(config({ SHUTDOWN_TIMEOUT_MS: "60000" }), log);
    running.push(replica);
    expect((await readyz(replica.port)).status).toBe(503);

    await replica.stop();
    await replica.started;
    expect(await portRefuses(replica.port)).toBe(true);
    await expect
      .poll(() => resources.left(), { timeout: 10_000, message: "timers, sockets or threads left after stop()" })
      .toEqual([]);
    resources.stop();
  }, 120_000);
});

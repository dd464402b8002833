// A replica stopping with subscriptions open (issue 13): once the drain starts, every open subscription
// ends (SSE `complete`, WebSocket close 1001), a new one is refused at once — over SSE on a connection
// kept alive from before the signal, and as a WebSocket upgrade — while the port is still open, and
// the process exits within SHUTDOWN_DRAIN_MS + 1 s.
import http from "node:http";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN } from "../helpers/graphql.ts";
import { type ChildServer, startServerProcess } from "../helpers/server.ts";

const DRAIN_MS = 1_500;
const SUBSCRIPTION = "subscription { ruleChanges(sinceVersion: 0) { version kind campaignId } }";

let database: TestDatabase;
let server: ChildServer;

beforeAll(async () => {
  database = await createTestDatabase();
  // Version 1 in the log: a subscription from version 0 gets one event at once, proof it is open.
  await database.sql(`INSERT INTO campaign (id, name, image_url, cta) VALUES ('c1', 'C1', 'https://x/c1.png', 'Go')`);
  server = await startServerProcess({
    env: { DATABASE_URL: database.url, ADMIN_TOKEN, SHUTDOWN_DRAIN_MS: String(DRAIN_MS) },
  });
});

afterAll(async () => {
  await server?.stop("SIGKILL");
  await database?.drop();
});

/** Resolves with `promise`, or rejects after `ms` saying what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`expected ${what} within ${ms} ms; it did not happen`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

interface SseEvent {
  event: string;
  data: string;
}

interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Whether the request went out on a connection kept alive from an earlier request. */
  reusedSocket: boolean;
  events: SseEvent[];
  /** Resolves when the server ends the response. */
  ended: Promise<void>;
  /** Resolves at the first event. */
  first: Promise<void>;
}

/** POST /graphql asking for an event stream; resolves once the response headers are in. */
function subscribeSse(agent: http.Agent | false, query: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/graphql`, {
      method: "POST",
      agent,
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const events: SseEvent[] = [];
      let buffer = "";
      let firstEvent!: () => void;
      const first = new Promise<void>((r) => {
        firstEvent = r;
      });
      const ended = new Promise<void>((r) => {
        res.on("end", r);
        res.on("close", r);
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split("\n")
              .filter((line) => !line.startsWith(":"))
              .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
          );
          if (fields.event) {
            events.push({ event: fields.event, data: fields.data ?? "" });
            firstEvent();
          }
        }
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        reusedSocket: req.reusedSocket,
        events,
        ended,
        first,
      });
    });
    req.end(JSON.stringify({ query }));
  });
}

/** A GraphQL query on `agent`, answered in full (its connection is then kept alive). */
function query(agent: http.Agent, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/graphql`, {
      method: "POST",
      agent,
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.end(JSON.stringify({ query: text }));
  });
}

/** The status a new WebSocket upgrade to /graphql gets, or "open". */
function upgradeStatus(): Promise<number | "open"> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
    socket.on("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    socket.on("open", () => {
      socket.terminate();
      resolve("open");
    });
    socket.on("error", reject);
  });
}

describe("stopping with subscriptions open", () => {
  it("ends open subscriptions, refuses new ones at once (a kept-alive connection's too), and exits within SHUTDOWN_DRAIN_MS + 1 s", async () => {
    // A dashboard's connections: an SSE subscription, a WebSocket one, and a connection kept alive.
    const keptAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    expect(await query(keptAlive, "{ indexStatus { version } }")).toBe(200);
    const sse = await subscribeSse(false, SUBSCRIPTION);
    expect(sse.status).toBe(200);
    let wsFirst!: () => void;
    const wsOpen = new Promise<void>((r) => {
      wsFirst = r;
    });
    let wsClose!: (code: number) => void;
    const wsClosed = new Promise<number>((r) => {
      wsClose = r;
    });
    const client = createClient({
      url: `${server.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
      retryAttempts: 0,
      on: { closed: (event) => wsClose((event as { code: number }).code) },
    });
    client.subscribe(
      { query: SUBSCRIPTION },
      { next: () => wsFirst(), error: () => undefined, complete: () => undefined },
    );
    await within(Promise.all([sse.first, wsOpen]), 10_000, "both subscriptions to deliver their first event");

    const exited = new Promise<number | null>((resolve) => server.process.once("exit", (code) => resolve(code)));
    const signalled = performance.now();
    server.process.kill("SIGTERM");

    // Open subscriptions end at once: SSE completes, the WebSocket gets "going away".
    await within(sse.ended, DRAIN_MS, "the open SSE subscription to end");
    expect(sse.events.at(-1)?.event).toBe("complete");
    expect(await within(wsClosed, DRAIN_MS, "the open WebSocket to close")).toBe(1001);

    // Still draining (port open, /readyz 503): a subscription sent on the connection kept alive from
    // before the signal is refused at once, and that connection closes; a WebSocket upgrade gets 503.
    const late = await subscribeSse(keptAlive, SUBSCRIPTION);
    expect(late.reusedSocket).toBe(true);
    await within(late.ended, DRAIN_MS, "the late subscription to end");
    expect(late.headers.connection).toBe("close");
    const refusal = late.events.find((e) => e.event === "next");
    expect(JSON.parse(refusal?.data ?? "{}").errors?.[0]?.extensions).toMatchObject({
      code: "UNAVAILABLE",
      retryAfterMs: 1000,
    });
    expect(late.events.at(-1)?.event).toBe("complete");
    expect(await upgradeStatus()).toBe(503);
    const readyz = await fetch(`${server.url}/readyz`);
    expect([readyz.status, await readyz.json()]).toEqual([503, { status: "not ready", reason: "shutting down" }]);
    const checkedBy = Math.round(performance.now() - signalled);

    const left = Math.max(0, signalled + DRAIN_MS + 1_000 - performance.now());
    const code = await within(exited, left, `the replica to exit by SHUTDOWN_DRAIN_MS + 1 s (${DRAIN_MS + 1_000} ms)`);
    console.log(
      `drain ${DRAIN_MS} ms: late subscription refused and checked ${checkedBy} ms after SIGTERM; exited ${Math.round(performance.now() - signalled)} ms after SIGTERM (bound ${DRAIN_MS + 1_000} ms)`,
    );
    expect(code).toBe(0);
    keptAlive.destroy();
    await client.dispose();
  });
});

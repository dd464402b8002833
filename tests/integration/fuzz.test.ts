// Fuzzing over real HTTP against a started server (NODE_ENV=production) on a fresh Postgres database:
// 4,000 random and malformed requests to /v1/delivery (fetch over keep-alive, plus raw sockets for
// HTTP that fetch refuses to send) and 800 to /graphql (FUZZ_SCALE multiplies both). Requests are fast-check samples with a
// fixed seed: a failure names the sample's index, and the same seed replays the same requests.
// Never a 5xx, never "Unexpected error.", every error has a JSON body, and the process stays up.
import net from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import {
  checkDeliveryReply,
  checkGraphQLReply,
  deliveryProbe,
  graphqlCodes,
  graphqlProbe,
  type Probe,
  type Reply,
} from "../helpers/fuzz-probes.ts";
import { ADMIN_TOKEN, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

// A longer or different run: FUZZ_SEED=… FUZZ_SCALE=5 npx vitest run tests/integration/fuzz.test.ts
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_124);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const CONCURRENCY = 16;
const DELIVERY_REQUESTS = Math.round(4_000 * SCALE);
const GRAPHQL_REQUESTS = Math.round(800 * SCALE);

let database: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({
    env: { DATABASE_URL: database.url, ADMIN_TOKEN, VIEWER_TOKEN, NODE_ENV: "production" },
  });
  // Something to serve: one campaign for everyone but France (so some requests answer 204), one for iOS in the US.
  const gql = graphqlClient(server.url);
  const create = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version } }`;
  for (const input of [
    {
      id: "everywhere",
      name: "Everywhere",
      imageUrl: "https://cdn.example/e.png",
      cta: "Go",
      targeting: { exclude: { countries: ["FR"] } },
    },
    {
      id: "ios-us",
      name: "iOS US",
      imageUrl: "https://cdn.example/i.png",
      cta: "Install",
      priority: 10,
      targeting: { include: { os: ["ios"], countries: ["US"] } },
    },
  ]) {
    expect((await gql(create, { input })).errors).toBeUndefined();
  }
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

// ---------------------------------------------------------------------------------------------
// Sending: fetch over keep-alive, or raw bytes on a fresh socket; a bounded number at once.

/** What a failure report shows of a probe: enough to read it, short enough to print. */
function describeProbe(probe: Probe): string {
  if (probe.kind === "raw") return `raw ${JSON.stringify(probe.bytes.toString("latin1").slice(0, 300))}`;
  const body = probe.body
    ? ` body(${probe.body.length}) ${JSON.stringify(probe.body.toString("latin1").slice(0, 200))}`
    : "";
  return `${probe.method} ${probe.path.slice(0, 300)} ${JSON.stringify(probe.headers)}${body}`;
}

async function send(probe: Probe): Promise<Reply[]> {
  if (probe.kind === "raw") return parseReplies(await rawExchange(probe.bytes), probe.head ?? false);
  const res = await fetch(`${server.url}${probe.path}`, {
    method: probe.method,
    headers: probe.headers,
    body: probe.body ? new Uint8Array(probe.body) : undefined,
  });
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return [{ status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) }];
}

/** Writes the bytes, half-closes, and collects everything until the server closes (or 5 s pass). */
function rawExchange(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(server.port, "127.0.0.1", () => socket.end(bytes));
    const timer = setTimeout(() => socket.destroy(), 5_000);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Every HTTP/1.1 response in a byte stream (interim 1xx skipped); throws on a stream it cannot read.
 *  `head`: the first request was a HEAD (its response has no body; a later one, to leftover bytes, may). */
function parseReplies(data: Buffer, head: boolean): Reply[] {
  const replies: Reply[] = [];
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf("\r\n\r\n", at, "latin1");
    if (end === -1) throw new Error(`truncated response head: ${JSON.stringify(data.subarray(at).toString("latin1"))}`);
    const [statusLine = "", ...lines] = data.subarray(at, end).toString("latin1").split("\r\n");
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine)}`);
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = end + 4;
    if (status < 200) continue;
    let body: Buffer = Buffer.alloc(0);
    // A HEAD that Node's parser refused is answered like any bad request, with a body.
    const headReply =
      head && replies.length === 0 && (at === data.length || data.toString("latin1", at, at + 5) === "HTTP/");
    if (headReply || status === 204 || status === 304) {
      // no body
    } else if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf("\r\n", at, "latin1");
        const size = Number.parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
        at = lineEnd + 2;
        if (!(size > 0)) {
          at += 2;
          break;
        }
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      body = data.subarray(at, at + length);
      at += length;
    } else {
      body = data.subarray(at);
      at = data.length;
    }
    replies.push({ status, headers, body });
  }
  return replies;
}

async function runAll<T>(items: readonly T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

function histogram(statuses: readonly (number | string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of [...statuses].sort()) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

async function assertAlive(): Promise<void> {
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}

// ---------------------------------------------------------------------------------------------

async function fuzz(
  name: string,
  probes: readonly Probe[],
  check: (reply: Reply, probe: Probe) => string | undefined,
): Promise<Record<string, number>> {
  const statuses: (number | string)[] = [];
  const failures: string[] = [];
  const started = Date.now();
  await runAll(probes, async (probe, index) => {
    let replies: Reply[];
    try {
      replies = await send(probe);
    } catch (error) {
      statuses.push("error");
      failures.push(
        `#${index} ${describeProbe(probe)}\n    → request failed: ${(error as Error).message} ${(error as Error).cause ?? ""}`,
      );
      return;
    }
    if (replies.length === 0) {
      statuses.push("no response");
      failures.push(`#${index} ${describeProbe(probe)}\n    → no response`);
    }
    for (const reply of replies) {
      statuses.push(reply.status);
      const problem = check(reply, probe);
      if (problem) failures.push(`#${index} ${describeProbe(probe)}\n    → ${problem}`);
    }
  });
  const counts = histogram(statuses);
  console.log(`${name}: ${probes.length} requests in ${Date.now() - started} ms (seed ${SEED}), statuses:`, counts);
  expect(failures.slice(0, 10).join("\n"), `${failures.length} bad responses`).toBe("");
  return counts;
}

describe("fuzzing", () => {
  it(`/v1/delivery: ${DELIVERY_REQUESTS} random and malformed requests, no 5xx, JSON errors, still alive`, async () => {
    const probes = fc.sample(deliveryProbe, { seed: SEED, numRuns: DELIVERY_REQUESTS });
    const counts = await fuzz("/v1/delivery", probes, (reply, probe) => {
      const method = probe.kind === "fetch" ? probe.method : probe.head ? "HEAD" : "GET";
      return checkDeliveryReply(reply, method);
    });
    // The samples reach every outcome, not only the error paths.
    for (const status of ["200", "204", "400", "405", "413"]) expect(counts[status] ?? 0, status).toBeGreaterThan(0);
    await assertAlive();
  });

  it(`/graphql: ${GRAPHQL_REQUESTS} random and malformed requests, no 5xx, JSON bodies, still alive`, async () => {
    const probes = fc.sample(graphqlProbe, { seed: SEED, numRuns: GRAPHQL_REQUESTS });
    const counts = await fuzz("/graphql", probes, checkGraphQLReply);
    console.log("/graphql error codes:", histogram(graphqlCodes));
    expect(counts["200"] ?? 0).toBeGreaterThan(0);
    expect(counts["400"] ?? 0).toBeGreaterThan(0);
    await assertAlive();
    // Still serving real work afterwards.
    const res = await graphqlClient(server.url)('{ indexStatus { version } campaign(id: "everywhere") { id } }');
    expect(res.data?.campaign).toEqual({ id: "everywhere" });
  });
});

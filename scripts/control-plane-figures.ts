// Re-runs each finding of issue 12 against real replicas (Postgres at 127.0.0.1:5432, a private
// redis-server) and PRINTS the figures; it asserts nothing. `npx tsx scripts/control-plane-figures.ts
// [--only 1,2,…]`. Every database, Redis and process it starts is its own and is stopped at the end.
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { createTestDatabase, type TestDatabase } from "../tests/helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient, VIEWER_TOKEN } from "../tests/helpers/graphql.ts";
import { freePort, startPrivateRedis, uniquePrefix } from "../tests/helpers/redis.ts";
import { type RunningServer, startServerProcess } from "../tests/helpers/server.ts";
import { startTcpProxy } from "../tests/helpers/tcp-proxy.ts";

const only = new Set(
  (
    process.argv.find((a) => a.startsWith("--only="))?.slice(7) ??
    process.argv[process.argv.indexOf("--only") + 1] ??
    ""
  )
    .split(",")
    .filter((x) => /^\d$/.test(x)),
);
const want = (n: number) => only.size === 0 || only.has(String(n));
const cleanups: (() => Promise<unknown>)[] = [];
const ms = (started: number) => Math.round(performance.now() - started);
const print = (line: string) => console.log(line);

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return db;
}

/** A replica in its own process, as deployed: this process's own work (sending 192 MB, say) is not its. */
async function replica(env: Record<string, string>, waitReady = true): Promise<RunningServer> {
  const server = await startServerProcess({
    env: { ADMIN_TOKEN, VIEWER_TOKEN, INDEX_POLL_MS: "1000", ...env },
    waitReady,
  });
  cleanups.push(() => server.stop());
  return server;
}

const counterOf = async (db: TestDatabase) =>
  (await db.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;

const commits = async (db: TestDatabase) =>
  Number(
    (
      await db.sql<{ n: string }>(
        "SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()",
      )
    )[0]?.n ?? 0,
  );

const rssMb = async (server: RunningServer) => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Math.round(Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0) / 2 ** 20);
};

const codeOf = (res: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  res.errors ? String(res.errors[0]?.extensions?.code) : "ok";

function tally(codes: string[]): string {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return JSON.stringify(counts);
}

const CREATE = `mutation($id: ID!) { createCampaign(input: { id: $id, name: "N", imageUrl: "https://x.example/n.png",
  cta: "Go", targeting: { include: { apps: ["app"] } } }) { version propagated } }`;

// 1. Concurrent mutations; a frozen database.
async function finding1() {
  const db = await database();
  const env = { DATABASE_URL: db.url, REDIS_URL: "redis://127.0.0.1:6379", REDIS_PREFIX: uniquePrefix("fig1") };
  const [a, b] = await Promise.all([replica({ ...env, REPLICA_ID: "A" }), replica({ ...env, REPLICA_ID: "B" })]);
  await graphqlClient(a.url)(CREATE, { id: "hot-1" });
  await graphqlClient(a.url)(CREATE, { id: "hot-2" });
  const UPDATE = `mutation($id: ID!, $p: Int!) { updateCampaign(id: $id, input: { priority: $p }) { version } }`;
  for (const total of [300, 150]) {
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        graphqlClient(i % 3 === 2 ? b.url : a.url)(UPDATE, { id: i % 2 ? "hot-1" : "hot-2", p: i % 1000 }),
      ),
    );
    print(
      `1. ${total} concurrent updateCampaign on 2 campaigns (2/3 via A): ${tally(results.map(codeOf))} in ${ms(started)} ms`,
    );
  }
  const proxy = await startTcpProxy(5432);
  cleanups.push(() => proxy.close());
  const url = new URL(db.url);
  url.port = String(proxy.port);
  const frozen = await replica({ DATABASE_URL: url.toString(), REPLICA_ID: "frozen" });
  proxy.freeze();
  for (const query of [
    "{ campaigns { id } }",
    `mutation { updateCampaign(id: "hot-1", input: { name: "F" }) { version } }`,
  ]) {
    const started = performance.now();
    const res = await graphqlClient(frozen.url)(query);
    print(
      `1. frozen database: ${query.split(" ")[0] === "mutation" ? "mutation" : "query"} → ${codeOf(res)} after ${ms(started)} ms`,
    );
  }
}

// 2. propagated while Redis is away for longer than the live window.
async function finding2() {
  const db = await database();
  const redis = await startPrivateRedis();
  cleanups.push(() => redis.stop());
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix("fig2") };
  const [a, b] = await Promise.all([replica({ ...env, REPLICA_ID: "A" }), replica({ ...env, REPLICA_ID: "B" })]);
  await redis.stop();
  await sleep(5_500);
  let trueCount = 0;
  let lies = 0;
  for (let i = 0; i < 10; i++) {
    const res = await graphqlClient(a.url)(CREATE, { id: `during-${i}` });
    const { version, propagated } = res.data?.createCampaign ?? {};
    const bAt = (await deliver(b.url, "app", "ios", "US")).version;
    if (propagated) trueCount++;
    if (propagated && bAt < version) lies++;
  }
  const status = await graphqlClient(a.url)("{ indexStatus { replicas { id version } } }");
  print(
    `2. Redis down > 5 s, 10 mutations via A: propagated true ${trueCount}/10, true while B served older: ${lies}; ` +
      `indexStatus.replicas: ${JSON.stringify(status.data?.indexStatus.replicas)}`,
  );
}

// 3. A replica started while Redis is unreachable.
async function finding3() {
  const db = await database();
  const port = await freePort();
  const withRedis = performance.now();
  await replica({ DATABASE_URL: db.url, REDIS_URL: "redis://127.0.0.1:6379", REDIS_PREFIX: uniquePrefix("fig3") });
  print(`3. for comparison, a replica with Redis reachable: ready after ${ms(withRedis)} ms`);
  const started = performance.now();
  const server = await replica({
    DATABASE_URL: db.url,
    REDIS_URL: `redis://default:secret@127.0.0.1:${port}`,
    REDIS_PREFIX: uniquePrefix("fig3"),
  });
  const ready = await fetch(`${server.url}/readyz`);
  print(`3. Redis unreachable at start: ready after ${ms(started)} ms, /readyz ${ready.status} ${await ready.text()}`);
  const redis = await startPrivateRedis({ port, password: "secret" });
  cleanups.push(() => redis.stop());
  const since = performance.now();
  for (;;) {
    const body = (await (await fetch(`${server.url}/readyz`)).json()) as { redis: string };
    if (body.redis === "up") break;
    await sleep(50);
  }
  print(`3. Redis started afterwards: the replica reports it up after ${ms(since)} ms`);
}

const otherMessages: string[] = [];

/** A bare graphql-ws subscriber on its own socket (cheaper than the client library, for thousands). */
function rawSubscriber(server: RunningServer, token: string, onVersion: (v: number) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
    ws.on("open", () =>
      ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })),
    );
    ws.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "connection_ack") {
        ws.send(
          JSON.stringify({
            id: "1",
            type: "subscribe",
            payload: { query: "subscription { ruleChanges { version kind campaignId } }" },
          }),
        );
        resolve(ws);
      } else if (message.type === "next" && message.payload.data) onVersion(message.payload.data.ruleChanges.version);
      else
        otherMessages.push(
          `${message.type}:${JSON.stringify(message.payload?.errors?.[0]?.extensions ?? message.payload ?? "").slice(0, 80)}`,
        );
    });
    ws.on("error", reject);
    ws.on("close", (code) => reject(new Error(`closed ${code}`)));
  });
}

// 4. Idle subscriptions and the database; 5,000 subscribers receiving one change.
async function finding4() {
  const db = await database();
  const server = await replica({ DATABASE_URL: db.url });
  await graphqlClient(server.url)(CREATE, { id: "seed" });
  const rate = async () => {
    const before = await commits(db);
    await sleep(5_000);
    return ((await commits(db)) - before) / 5;
  };
  const baseline = await rate();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < 500; i++) sockets.push(await rawSubscriber(server, i % 2 ? ADMIN_TOKEN : VIEWER_TOKEN, () => {}));
  await sleep(2_000); // every subscribe answered: what follows is idle
  const idle = await rate();
  print(
    `4. database transactions/s: ${baseline.toFixed(1)} with no subscription, ${idle.toFixed(1)} with 500 idle ` +
      `(+${(idle - baseline).toFixed(1)}; the replica's own log poll and heartbeat are the baseline)`,
  );
  for (const ws of sockets.splice(0)) ws.terminate();

  const subscribers = 5_000;
  /** When each subscriber saw each version (a change is streamed before the mutation returns). */
  const seen: Map<number, number>[] = [];
  const started = performance.now();
  for (let i = 0; i < subscribers; i += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, subscribers - i) }, (_, j) => {
        const mine = new Map<number, number>();
        seen.push(mine);
        return rawSubscriber(server, (i + j) % 2 ? ADMIN_TOKEN : VIEWER_TOKEN, (v) => mine.set(v, performance.now()));
      }),
    );
    sockets.push(...batch);
  }
  print(`4. ${subscribers} WebSocket subscribers connected in ${ms(started)} ms; RSS ${await rssMb(server)} MB`);
  await sleep(2_000);
  const sent = performance.now();
  const res = await graphqlClient(server.url)(CREATE, { id: "to-5000" });
  const answered = ms(sent);
  const target = res.data?.createCampaign.version as number;
  const received = () => seen.filter((m) => m.has(target)).length;
  for (let i = 0; i < 100 && received() < subscribers; i++) await sleep(100);
  const times = seen.flatMap((m) => (m.has(target) ? [(m.get(target) as number) - sent] : [])).sort((x, y) => x - y);
  print(
    `4. one change to ${subscribers} subscribers: ${received()} received it; first ${Math.round(times[0] ?? Number.NaN)} ms, ` +
      `median ${Math.round(times[times.length >> 1] ?? Number.NaN)} ms, last ${Math.round(times.at(-1) ?? Number.NaN)} ms after ` +
      `the mutation was sent (mutation answered in ${answered} ms, propagated ${res.data?.createCampaign.propagated})`,
  );
  if (otherMessages.length) print(`4. other subscriber messages: ${tally(otherMessages)}`);
  for (const ws of sockets) ws.terminate();
}

// 5. Unauthenticated load: big bodies, WebSockets without a token, CORS.
async function finding5() {
  const db = await database();
  const server = await replica({ DATABASE_URL: db.url });
  await graphqlClient(server.url)(CREATE, { id: "seed" });
  const body = `{"query": "${"x".repeat(24 * 1024 * 1024)}`;
  const rssBefore = await rssMb(server);
  // Devices are timed from another process: this one is busy sending 192 MB.
  const prober = spawn(
    process.execPath,
    [
      "-e",
      `const u = process.argv[1]; const l = []; const end = Date.now() + 6000;
       (async () => { while (Date.now() < end) { const t = performance.now(); await (await fetch(u)).arrayBuffer();
       l.push(performance.now() - t); } l.sort((a, b) => a - b);
       console.log(JSON.stringify({ n: l.length, p50: l[l.length >> 1], p99: l[Math.floor(l.length * 0.99)], max: l.at(-1) })); })();`,
      `${server.url}/v1/delivery?app=app&os=ios&country=US`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let proberOut = "";
  prober.stdout.on("data", (chunk) => {
    proberOut += chunk;
  });
  const proberDone = new Promise((r) => prober.once("exit", r));
  await sleep(500);
  const started = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: 8 }, () =>
      fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body }).then(
        async (r) => `${r.status}:${(await r.text()).length}B`,
        () => "connection closed while sending",
      ),
    ),
  );
  const took = ms(started);
  const rssAfter = await rssMb(server);
  await proberDone;
  const devices = JSON.parse(proberOut || "{}") as Record<string, number>;
  print(
    `5. 8 × 24 MB unauthenticated invalid JSON: ${tally(statuses)} in ${took} ms; RSS ${rssBefore} → ${rssAfter} MB; ` +
      `delivery meanwhile (another process, 6 s): ${devices.n} requests, p50 ${devices.p50?.toFixed(1)} ms, ` +
      `p99 ${devices.p99?.toFixed(1)} ms, max ${devices.max?.toFixed(1)} ms`,
  );
  const outcomes = await Promise.all(
    Array.from(
      { length: 200 },
      () =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
          ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: {} })));
          ws.on("message", () => resolve("acknowledged"));
          ws.on("close", (code) => resolve(`closed ${code}`));
          ws.on("error", () => resolve("error"));
        }),
    ),
  );
  print(`5. 200 WebSockets with connection_init but no token: ${tally(outcomes)}`);
  const silent = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
    const opened = performance.now();
    ws.on("close", (code) => resolve(`closed ${code} after ${ms(opened)} ms`));
  });
  print(`5. a WebSocket that never sends connection_init: ${silent}`);
  const preflight = await fetch(`${server.url}/graphql`, {
    method: "OPTIONS",
    headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
  });
  print(
    `5. CORS preflight from https://evil.example (CORS_ORIGINS unset): allow-origin ${preflight.headers.get("access-control-allow-origin")}, ` +
      `allow-credentials ${preflight.headers.get("access-control-allow-credentials")}`,
  );
  const probe = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ secretField }" }),
  });
  print(`5. unauthenticated invalid operation: ${probe.status} ${await probe.text()}`);
}

// 6. TRUNCATE in SQL on running replicas vs a fresh replica.
async function finding6() {
  const db = await database();
  const running = await replica({ DATABASE_URL: db.url });
  const gql = graphqlClient(running.url);
  await gql(`mutation { upsertCategory(input: { id: "games", name: "G", apps: ["candycrush"] }) { version } }`);
  await gql(`mutation { createCampaign(input: { id: "gamers", name: "G", imageUrl: "https://x.example/g.png", cta: "Go",
    targeting: { include: { categories: ["games"] } } }) { version } }`);
  const before = await deliver(running.url, "candycrush", "ios", "US");
  const started = performance.now();
  await db.sql("TRUNCATE category_app");
  const version = await counterOf(db);
  while ((await deliver(running.url, "candycrush", "ios", "US")).version < version) await sleep(20);
  const converged = ms(started);
  const fresh = await replica({ DATABASE_URL: db.url });
  const [r, f] = await Promise.all([
    deliver(running.url, "candycrush", "ios", "US"),
    deliver(fresh.url, "candycrush", "ios", "US"),
  ]);
  print(
    `6. TRUNCATE category_app: version ${before.version} → ${version}; running replica converged in ${converged} ms ` +
      `(v${r.version} ${JSON.stringify(r.cids)}), fresh replica v${f.version} ${JSON.stringify(f.cids)}: ` +
      `${r.version === f.version && JSON.stringify(r.cids) === JSON.stringify(f.cids) ? "equal" : "DIFFERENT"}`,
  );
}

try {
  const findings = [finding1, finding2, finding3, finding4, finding5, finding6];
  for (const [i, finding] of findings.entries()) {
    if (!want(i + 1)) continue;
    try {
      await finding();
    } catch (error) {
      print(`${i + 1}. failed to measure: ${error instanceof Error ? error.message : String(error)}`);
    }
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  }
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
process.exit(0);

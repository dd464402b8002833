// `npm run bench:propagation`: three replicas on Postgres + Redis with the 5k-campaign catalog.
// 1. 200 sequential mutations through replica A: (a) mutation latency as the admin client sees it,
//    (b) commit → the last replica applied it (from the replicas' own log lines, same clock).
// 2. Delivery load on replica B without and with one mutation per second through A: p99 ratio and the
//    longest event-loop block on B (bullseye_eventloop_block_max_seconds: the loop's lag less the time
//    it waited for a CPU), beside prom-client's lag max less its 10 ms sampling interval.
import { parseArgs } from "node:util";
import { createDb } from "../src/db/client.ts";
import { generateSynthetic, syntheticRequests } from "../src/seed/synthetic.ts";
import { writeSeed } from "../src/seed/write.ts";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { deleteSharedKeys } from "../tests/helpers/redis.ts";
import { type Child, deliveryLoad, fmt, percentile, spawnServer, waitReady } from "./lib/processes.ts";
import { ADMIN_TOKEN, fmtStall, gql, longestStall } from "./lib/replicas.ts";

const { values: args } = parseArgs({
  options: {
    mutations: { type: "string", default: "200" },
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "32" },
    "skip-churn": { type: "boolean", default: false },
  },
});
const CAMPAIGNS = 5_000;
const APPS = 100_000;

const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { version propagated } }`;
const campaignId = (i: number) => `c${String(i % CAMPAIGNS).padStart(6, "0")}`;
const mutationInput = (i: number) =>
  i % 2
    ? { priority: i % 1000 }
    : { targeting: { include: { apps: [`com.synthetic.app${(i * 7919) % APPS}`], countries: ["US", "DE"] } } };

const stats = (label: string, values: number[]) =>
  `${label}: p50 ${fmt(percentile(values, 50), 1)} ms, p99 ${fmt(percentile(values, 99), 1)} ms, max ${fmt(Math.max(...values), 1)} ms`;

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const db = createDb(database.url);
  const replicas: Child[] = [];
  /** Its keys (delivery stats, with a day's expiry) are deleted at the end. */
  const redisPrefix = `bench:${Date.now()}:`;
  try {
    await writeSeed(db, generateSynthetic({ campaigns: CAMPAIGNS, apps: APPS }));
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_PREFIX: redisPrefix,
      ADMIN_TOKEN,
      LOG_LEVEL: "debug",
    };
    for (const id of ["A", "B", "C"]) replicas.push(await spawnServer("src/index.ts", { ...env, REPLICA_ID: id }));
    await Promise.all(replicas.map((r) => waitReady(r.url)));
    const [a, b] = replicas as [Child, Child, Child];
    // Let every replica hear the others before read-your-write is measured.
    await new Promise((r) => setTimeout(r, 1500));

    // 1. Sequential mutations.
    const latencies: number[] = [];
    const versions: number[] = [];
    let unpropagated = 0;
    for (let i = 0; i < Number(args.mutations); i++) {
      const started = performance.now();
      const change = await gql<{ version: number; propagated: boolean }>(a.url, UPDATE, {
        id: campaignId(i * 13),
        input: mutationInput(i),
      });
      latencies.push(performance.now() - started);
      versions.push(change.version);
      if (!change.propagated) unpropagated++;
    }
    const timeOf = (child: Child, msg: string) => {
      const times = new Map<number, number>();
      for (const entry of child.logs) {
        if (entry.msg === msg && typeof entry.version === "number" && !times.has(entry.version)) {
          times.set(entry.version, entry.time as number);
        }
      }
      return times;
    };
    const committed = timeOf(a, "change committed");
    const applied = replicas.map((r) => timeOf(r, "index applied"));
    const spread: number[] = [];
    for (const version of versions) {
      const at = committed.get(version);
      // A replica that applied a batch logs only its newest version: take the first apply at or after.
      const lastApplied = applied.map((times) =>
        Math.min(...[...times].filter(([v]) => v >= version).map(([, t]) => t)),
      );
      if (at !== undefined && lastApplied.every(Number.isFinite)) spread.push(Math.max(...lastApplied) - at);
    }
    console.log(`${versions.length} sequential mutations through replica A (3 replicas, ${CAMPAIGNS} campaigns):`);
    console.log(`  (a) ${stats("mutation latency", latencies)}; not propagated: ${unpropagated}`);
    console.log(
      `  (b) ${stats("commit -> last replica applied", spread)} (target p99 <= 50 ms; log clock, 1 ms resolution)`,
    );
    const applyMs = b.logs.filter((e) => e.msg === "index applied" && e.how === "delta").map((e) => e.ms as number);
    console.log(`      of which read + apply on a replica: ${stats("delta refresh", applyMs)}`);
    if (args["skip-churn"]) return;

    // 2. Delivery under churn, on replica B (changes reach it through Redis and the log).
    const bodies = syntheticRequests(50_000, APPS).map((r) => JSON.stringify(r));
    const options = { duration: Number(args.duration), connections: Number(args.connections) };
    await deliveryLoad(b.url, bodies, { ...options, duration: 5 }); // warm-up
    await longestStall(b.url); // resets the max
    const calm = await deliveryLoad(b.url, bodies, options);
    const calmStall = await longestStall(b.url);
    let churning = true;
    let churnMutations = 0;
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        await gql(a.url, UPDATE, { id: campaignId(i * 31 + 7), input: mutationInput(i) });
        churnMutations++;
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const busy = await deliveryLoad(b.url, bodies, options);
    const busyStall = await longestStall(b.url);
    churning = false;
    await churn;
    console.log(`delivery on replica B, ${options.duration} s each, ${options.connections} connections:`);
    console.log(
      `  no churn:            ${fmt(calm.rps)} req/s, p50 ${calm.p50} p99 ${calm.p99} max ${calm.max} ms, errors ${calm.errors}, longest event-loop block ${fmtStall(calmStall)}`,
    );
    console.log(
      `  1 mutation/s (${churnMutations}): ${fmt(busy.rps)} req/s, p50 ${busy.p50} p99 ${busy.p99} max ${busy.max} ms, errors ${busy.errors}, longest event-loop block ${fmtStall(busyStall)}`,
    );
    console.log(
      `  p99 ratio churn / no churn: ${fmt(busy.p99 / Math.max(calm.p99, 1), 2)} (target <= 2); stall target <= 20 ms`,
    );
  } finally {
    await Promise.all(replicas.map((r) => r.stop()));
    await db.$disconnect();
    await database.drop();
    await deleteSharedKeys(`${redisPrefix}*`);
  }
}

await main();

// `npm run bench:forecast`: reach forecasts on three replicas (Postgres + Redis) with a 10k-campaign /
// 100k-app catalog, each replica's traffic sample full (12 windows × 1,000 requests: the windows are
// shortened to 500 ms so they fill in seconds). Prints the latency of `forecast` as an admin sees it
// (p50/p99/max over drafts of different reach), the replicas that answered, the sample size, and each
// replica's RSS.
import { parseArgs } from "node:util";
import { createDb } from "../src/db/client.ts";
import { generateSynthetic, SYNTHETIC_COUNTRIES, syntheticApp, syntheticRequests } from "../src/seed/synthetic.ts";
import { writeSeed } from "../src/seed/write.ts";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { deleteSharedKeys } from "../tests/helpers/redis.ts";
import { type Child, deliveryLoad, fmt, percentile, spawnServer, waitReady } from "./lib/processes.ts";
import { ADMIN_TOKEN, gql, rssMb } from "./lib/replicas.ts";
import { hasWrk, wrkLoad } from "./lib/wrk.ts";

const { values: args } = parseArgs({
  options: {
    campaigns: { type: "string", default: "10000" },
    apps: { type: "string", default: "100000" },
    queries: { type: "string", default: "30" },
  },
});
const APPS = Number(args.apps);
const FORECAST = `query($targeting: TargetingInput!) {
  forecast(targeting: $targeting) { sampledRequests matchingShare requestsPerHour replicasAnswered overlaps { campaign { id } share } } }`;

const database = await createTestDatabase();
const db = createDb(database.url);
const replicas: Child[] = [];
/** Its keys (delivery stats, with a day's expiry) are deleted at the end. */
const redisPrefix = `bench-forecast:${Date.now()}:`;
try {
  await writeSeed(db, generateSynthetic({ campaigns: Number(args.campaigns), apps: APPS, categories: 20 }));
  const env = {
    DATABASE_URL: database.url,
    REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_PREFIX: redisPrefix,
    ADMIN_TOKEN,
    TRAFFIC_SAMPLE_WINDOW_MS: "500",
  };
  for (const id of ["A", "B", "C"]) replicas.push(await spawnServer("src/index.ts", { ...env, REPLICA_ID: id }));
  await Promise.all(replicas.map((r) => waitReady(r.url)));
  await new Promise((r) => setTimeout(r, 1_500)); // every replica hears the others
  // Traffic on every replica throughout: 7 s (12 windows and a bit, so each sample is full) before the
  // first forecast, and while they are asked (forecasts are asked of replicas that serve).
  const bodies = syntheticRequests(50_000, APPS).map((r) => JSON.stringify(r));
  const load = hasWrk() ? wrkLoad : deliveryLoad;
  const traffic = Promise.all(replicas.map((r) => load(r.url, bodies, { duration: 25, connections: 4 })));
  await new Promise((r) => setTimeout(r, 7_000));

  const drafts = [
    { include: { countries: ["US"] } },
    { include: { countries: ["US", "CA", "GB", "DE", "FR"], os: ["ios"] } },
    { include: { categories: ["cat1", "cat2"] } },
    { include: { apps: Array.from({ length: 200 }, (_, i) => syntheticApp(i * 37)) } },
    { exclude: { countries: SYNTHETIC_COUNTRIES.slice(0, 10) } },
    {},
  ];
  // Warm-up: the first query of each kind compiles code paths on every replica.
  for (const [i, targeting] of drafts.entries()) await gql(replicas[i % 3]?.url as string, FORECAST, { targeting });
  const latencies: number[] = [];
  let last: Record<string, unknown> = {};
  const answeredBy: number[] = [];
  for (let i = 0; i < Number(args.queries); i++) {
    const started = performance.now();
    last = await gql(replicas[i % 3]?.url as string, FORECAST, { targeting: drafts[i % drafts.length] });
    latencies.push(performance.now() - started);
    answeredBy.push(Number(last.replicasAnswered));
  }
  console.log(
    `forecast on ${fmt(Number(args.campaigns))} campaigns, 3 replicas: latency p50 ${fmt(percentile(latencies, 50))} / ` +
      `p99 ${fmt(percentile(latencies, 99))} / max ${fmt(Math.max(...latencies))} ms over ${latencies.length} queries (target <= 500 ms); ` +
      `all 3 replicas answered ${answeredBy.filter((n) => n === 3).length} of ${answeredBy.length}; ` +
      `last: ${fmt(Number(last.sampledRequests))} sampled requests`,
  );
  console.log(`RSS: ${replicas.map((r, i) => `${"ABC"[i]} ${fmt(rssMb(r))} MB`).join(", ")}`);
  await traffic;
} finally {
  await Promise.all(replicas.map((r) => r.stop()));
  await db.$disconnect();
  await database.drop();
  await deleteSharedKeys(`${redisPrefix}*`);
}

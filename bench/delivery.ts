// `npm run bench`: /v1/delivery throughput and latency against a bare node:http baseline measured in
// the same run (ratios, because this machine is shared and noisy), plus the index micro-benchmark.
// Needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432); makes and drops its own database.
import { parseArgs } from "node:util";
import { createDb } from "../src/db/client.ts";
import { generateSynthetic, syntheticRequests } from "../src/seed/synthetic.ts";
import { writeSeed } from "../src/seed/write.ts";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { type Child, deliveryLoad, fmt, spawnServer, waitReady } from "./lib/processes.ts";
import { catalogWithBystanders, measureMatch } from "./micro.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "32" },
    rounds: { type: "string", default: "3" },
    "skip-http": { type: "boolean", default: false },
    "skip-micro": { type: "boolean", default: false },
  },
});
const CAMPAIGNS = 5_000;
const APPS = 100_000;
const load = (url: string, bodies: string[], duration = Number(args.duration)) =>
  deliveryLoad(url, bodies, { duration, connections: Number(args.connections) });

async function httpBench(): Promise<void> {
  const database = await createTestDatabase();
  const db = createDb(database.url);
  const children: Child[] = [];
  try {
    const started = performance.now();
    await writeSeed(db, generateSynthetic({ campaigns: CAMPAIGNS, apps: APPS }));
    console.log(`seeded ${CAMPAIGNS} campaigns / ${APPS} apps in ${fmt(performance.now() - started)} ms`);
    const bullseye = await spawnServer("src/index.ts", { DATABASE_URL: database.url });
    children.push(bullseye);
    await waitReady(bullseye.url);

    const requests = syntheticRequests(50_000, APPS);
    const bodies = requests.map((r) => JSON.stringify(r));
    // Baseline answers the median body size Bullseye answers for this mix.
    const sizes: number[] = [];
    for (const body of bodies.slice(0, 300)) {
      const res = await fetch(`${bullseye.url}/v1/delivery`, { method: "POST", body });
      sizes.push((await res.arrayBuffer()).byteLength);
    }
    sizes.sort((a, b) => a - b);
    const medianBytes = sizes[Math.floor(sizes.length / 2)] ?? 0;
    const baseline = await spawnServer("bench/baseline-server.ts", { BODY_BYTES: String(medianBytes) });
    children.push(baseline);
    console.log(`request mix: ${bodies.length} distinct bodies; median response ${medianBytes} bytes (204 = 0)`);

    // Steady state: JIT warm and the per-snapshot answer cache filled, as on a replica in service.
    await load(bullseye.url, bodies, 5);
    await load(baseline.url, bodies, 2);
    const rounds: { base: Awaited<ReturnType<typeof load>>; ours: Awaited<ReturnType<typeof load>> }[] = [];
    for (let round = 0; round < Number(args.rounds); round++) {
      const base = await load(baseline.url, bodies);
      const ours = await load(bullseye.url, bodies);
      rounds.push({ base, ours });
      console.log(
        `round ${round + 1}: baseline ${fmt(base.rps)} req/s p50 ${base.p50} ms p99 ${base.p99} ms | ` +
          `bullseye ${fmt(ours.rps)} req/s p50 ${ours.p50} ms p99 ${ours.p99} ms errors ${ours.errors} | ratio ${fmt(ours.rps / base.rps, 3)}`,
      );
    }
    // Each round measures both servers back to back: the per-round ratio is the comparable figure.
    const ratios = rounds.map((r) => r.ours.rps / r.base.rps).sort((a, b) => a - b);
    const median = ratios[Math.floor(ratios.length / 2)] ?? Number.NaN;
    console.log(
      `delivery throughput / bare node:http: median of ${ratios.length} rounds ${fmt(median, 3)}, best ${fmt(ratios.at(-1) ?? Number.NaN, 3)}  (target >= 0.9)`,
    );
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    await db.$disconnect();
    await database.drop();
  }
}

function microBench(): void {
  const print = (r: ReturnType<typeof measureMatch>) =>
    console.log(
      `  ${fmt(r.campaigns).padStart(6)} campaigns: ${fmt(r.nsPerMatch).padStart(6)} ns/match uncached, ` +
        `${fmt(r.nsPerCachedMatch).padStart(4)} ns cached, ${fmt(r.adsPerRequest, 2)} ads/request, build ${fmt(r.buildMs)} ms`,
    );
  console.log("\none uncached match, 500 campaigns that can match + N-500 that cannot (apps 20 per campaign):");
  const fixed = [500, 5_000, 50_000].map((n) => measureMatch(n, 10_000, catalogWithBystanders(500, n, 10_000)));
  fixed.forEach(print);
  console.log(`  50k / 500 cost ratio: ${fmt(fixed[2]!.nsPerMatch / fixed[0]!.nsPerMatch, 2)}  (target <= 3)`);

  console.log("\none uncached match, whole synthetic catalog scaled (more campaigns match too):");
  const results = [500, 5_000, 50_000].map((n) => measureMatch(n, n * 20));
  for (const r of results) {
    console.log(
      `  ${fmt(r.campaigns).padStart(6)} campaigns: ${fmt(r.nsPerMatch).padStart(6)} ns/match uncached, ` +
        `${fmt(r.nsPerCachedMatch).padStart(4)} ns cached, ${fmt(r.adsPerRequest, 2)} ads/request, build ${fmt(r.buildMs)} ms`,
    );
  }
  console.log(
    `  50k / 500 cost ratio: ${fmt(results[2]!.nsPerMatch / results[0]!.nsPerMatch, 2)} (grows with the ads served)`,
  );
}

if (!args["skip-micro"]) microBench();
if (!args["skip-http"]) await httpBench();

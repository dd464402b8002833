// `npm run bench:scale`: the delivery load of `npm run bench` against WORKERS=1 and WORKERS=2 on this
// host (node:cluster sharing the port), printing req/s, p99 and the scaling ratio. The load comes from
// wrk when installed (`--tool autocannon` to force autocannon). On a 2-core machine the load generator
// competes for the same cores, so the ratio understates what a bigger host gives.
import { parseArgs } from "node:util";
import { createDb } from "../src/db/client.ts";
import { generateSynthetic, syntheticRequests } from "../src/seed/synthetic.ts";
import { writeSeed } from "../src/seed/write.ts";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { deliveryLoad, fmt, type LoadResult, spawnServer, waitReady } from "./lib/processes.ts";
import { rssMb } from "./lib/replicas.ts";
import { hasWrk, wrkLoad } from "./lib/wrk.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    tool: { type: "string", default: "auto" },
  },
});
const tool = args.tool === "auto" ? (hasWrk() ? "wrk" : "autocannon") : args.tool;
if (tool !== "wrk" && tool !== "autocannon") throw new Error("--tool must be wrk, autocannon or auto");
const load = tool === "wrk" ? wrkLoad : deliveryLoad;
console.log(`load generator: ${tool}`);
const APPS = 100_000;

const database = await createTestDatabase();
const db = createDb(database.url);
try {
  await writeSeed(db, generateSynthetic({ campaigns: 5_000, apps: APPS }));
  const bodies = syntheticRequests(50_000, APPS).map((r) => JSON.stringify(r));
  const results: Record<number, LoadResult> = {};
  for (const workers of [1, 2]) {
    const server = await spawnServer("src/index.ts", { DATABASE_URL: database.url, WORKERS: String(workers) });
    await waitReady(server.url);
    await new Promise((r) => setTimeout(r, 1_000)); // every worker up, not just the first
    const options = { duration: Number(args.duration), connections: Number(args.connections) };
    await load(server.url, bodies, { ...options, duration: 5 }); // warm-up: JIT and answer caches
    const result = await load(server.url, bodies, options);
    results[workers] = result;
    console.log(
      `WORKERS=${workers}: ${fmt(result.rps)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, max ${result.max} ms, errors ${result.errors}, RSS ${fmt(rssMb(server))} MB`,
    );
    await server.stop();
  }
  const one = results[1] as LoadResult;
  const two = results[2] as LoadResult;
  console.log(`scaling 2 workers / 1 worker: ${fmt(two.rps / one.rps, 2)}× throughput, p99 ${one.p99} → ${two.p99} ms`);
} finally {
  await db.$disconnect();
  await database.drop();
}

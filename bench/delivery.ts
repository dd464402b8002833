// `npm run bench`: /v1/delivery throughput and latency against a bare node:http baseline measured in
// the same run (ratios, because this machine is shared and noisy), plus the index micro-benchmark.
// Needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432); makes and drops its own database.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { createDb } from "../src/db/client.ts";
import { generateSynthetic, syntheticRequests } from "../src/seed/synthetic.ts";
import { writeSeed } from "../src/seed/write.ts";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { catalogWithBystanders, measureMatch } from "./micro.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "32" },
    rounds: { type: "string", default: "2" },
    "skip-http": { type: "boolean", default: false },
    "skip-micro": { type: "boolean", default: false },
  },
});
const ROOT = path.resolve(import.meta.dirname, "..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
const CAMPAIGNS = 5_000;
const APPS = 100_000;

const spawned = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of spawned) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

function spawnServer(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [TSX, script], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  spawned.add(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === "listening" && entry.port) resolve({ child, url: `http://127.0.0.1:${entry.port}` });
      } catch {}
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/readyz`).catch(() => null))?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server never became ready");
}

async function load(url: string, bodies: string[], duration = Number(args.duration)) {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/delivery`,
    method: "POST",
    headers: { "content-type": "application/json" },
    connections: Number(args.connections),
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function httpBench(): Promise<void> {
  const database = await createTestDatabase();
  const db = createDb(database.url);
  const children: ChildProcess[] = [];
  try {
    const started = performance.now();
    await writeSeed(db, generateSynthetic({ campaigns: CAMPAIGNS, apps: APPS }));
    console.log(`seeded ${CAMPAIGNS} campaigns / ${APPS} apps in ${fmt(performance.now() - started)} ms`);
    const bullseye = await spawnServer("src/index.ts", { DATABASE_URL: database.url });
    children.push(bullseye.child);
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
    children.push(baseline.child);
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
    const base = Math.max(...rounds.map((r) => r.base.rps));
    const ours = Math.max(...rounds.map((r) => r.ours.rps));
    console.log(
      `delivery throughput / bare node:http (best of ${rounds.length}): ${fmt(ours / base, 3)}  (target >= 0.9)`,
    );
  } finally {
    for (const child of children) child.kill("SIGTERM");
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

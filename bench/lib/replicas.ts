// Talking to running replicas from a bench: GraphQL as an admin, the longest event-loop stall since
// the last look, resident memory, the version a replica serves, and a latency probe.
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { EVENT_LOOP_SAMPLE_MS } from "../../src/metrics.ts";
import { type Child, fmt } from "./processes.ts";

export const ADMIN_TOKEN = "bench-admin-token-0123456789";

export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return Object.values(body.data ?? {})[0] as T;
}

export interface Stall {
  /** prom-client's lag max less its sampling interval: includes waiting for a CPU. */
  lagMs: number;
  /** What the replica's own work held the loop: the lag less its main thread's run-queue wait. */
  blockMs: number;
}

/**
 * A replica's /metrics, read once: a sample's value by metric name, summed over its label sets, or
 * over those holding `label` (e.g. `cache="devices"`) when given (NaN when the replica has none).
 */
export async function scrape(url: string): Promise<(name: string, label?: string) => number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return (name, label) => {
    const labels = label === undefined ? "(?:\\{[^}]*\\})?" : `\\{[^}]*${label}[^}]*\\}`;
    const samples = [...text.matchAll(new RegExp(`^${name}${labels} (\\S+)$`, "gm"))];
    return samples.length ? samples.reduce((sum, sample) => sum + Number(sample[1]), 0) : Number.NaN;
  };
}

/**
 * The longest event-loop stall since the last call, both ways (each maximum resets at a scrape). On a
 * machine with more busy processes than cores the two differ: the lag also counts the time the
 * replica was runnable but not running.
 */
export async function longestStall(url: string): Promise<Stall> {
  const metric = await scrape(url);
  return {
    lagMs: Math.max(0, metric("nodejs_eventloop_lag_max_seconds") * 1000 - EVENT_LOOP_SAMPLE_MS),
    blockMs: metric("bullseye_eventloop_block_max_seconds") * 1000,
  };
}

export const fmtStall = (stall: Stall) => `${fmt(stall.blockMs, 1)} ms (lag ${fmt(stall.lagMs, 1)} ms)`;

/** Where a replica's memory is, from its /metrics: V8 heap used and reserved, memory outside the heap (MB). */
export async function heapMb(url: string): Promise<{ used: number; total: number; external: number }> {
  const metric = await scrape(url);
  return {
    used: metric("nodejs_heap_size_used_bytes") / 2 ** 20,
    total: metric("nodejs_heap_size_total_bytes") / 2 ** 20,
    external: metric("nodejs_external_memory_bytes") / 2 ** 20,
  };
}

/**
 * Time this replica has spent bringing changes into its index since it started (every kind together:
 * a carried change from its commit message to serving it, a delta or full read from the log), and
 * how many: the difference across a change is how long after its commit the replica served it.
 */
export async function applyTotals(url: string): Promise<{ ms: number; count: number }> {
  const metric = await scrape(url);
  return {
    ms: (metric("bullseye_index_apply_duration_seconds_sum") || 0) * 1000,
    count: metric("bullseye_index_apply_duration_seconds_count") || 0,
  };
}

/** Resident set size of a child process, in MB. */
export function rssMb(child: Child): number {
  const status = readFileSync(`/proc/${child.child.pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN) / 1024;
}

/** USER_HZ: 100 on every Linux build this bench runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system, all threads) the child has used, in µs; NaN where /proc is not there. */
export function cpuMicros(child: Child): number {
  try {
    // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th, in ticks.
    const fields = readFileSync(`/proc/${child.child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

export async function servedVersion(url: string): Promise<number> {
  const body = (await (await fetch(`${url}/readyz`)).json()) as { version?: number };
  return body.version ?? 0;
}

/** Resolves once every replica serves at least `version`; the ms it took. */
export async function untilServed(urls: string[], version: number, timeoutMs = 60_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const versions = await Promise.all(urls.map(servedVersion));
    if (versions.every((v) => v >= version)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`replicas at ${versions}, not ${version}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The probe's loop, in a worker thread of its own: the bench's own work meanwhile (a 20,000-campaign
// mutation is ~10 MB of JSON to build and send) held the bench's event loop for hundreds of ms and
// showed as delivery latency.
const PROBE_WORKER = `
const http = require("node:http");
const { parentPort, workerData } = require("node:worker_threads");
const { url, bodies, everyMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const target = new URL(url + "/v1/delivery");
let latencies = [];
let errors = 0;
let running = true;
const once = (body) => new Promise((resolve) => {
  const started = performance.now();
  const req = http.request(target, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
    res.resume();
    res.on("end", () => {
      latencies.push(performance.now() - started);
      if (res.statusCode !== 200 && res.statusCode !== 204) errors++;
      resolve();
    });
  });
  req.on("error", () => { errors++; resolve(); });
  req.end(body);
});
parentPort.on("message", (message) => {
  if (message === "stop") running = false;
  parentPort.postMessage({ latencies, errors });
  latencies = [];
  errors = 0;
});
(async () => {
  for (let i = 0; running; i++) {
    const started = performance.now();
    await once(bodies[i % bodies.length]);
    const wait = everyMs - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  agent.destroy();
  parentPort.close();
})();
`;

/**
 * Sends one delivery request at a time to `url`, a new one every `everyMs` (or as soon as the previous
 * answered), over one keep-alive connection, and records each latency: what a device sees meanwhile.
 * Runs in a worker thread, so that the bench's own work does not delay it.
 */
export function startProbe(url: string, bodies: string[], everyMs = 2) {
  const worker = new Worker(PROBE_WORKER, { eval: true, workerData: { url, bodies, everyMs } });
  const ask = (message: "take" | "stop") =>
    new Promise<{ latencies: number[]; errors: number }>((resolve) => {
      worker.once("message", resolve);
      worker.postMessage(message);
    });
  return {
    /** Latencies since the last take (and how many failed). */
    take: () => ask("take"),
    async stop() {
      // Listened for first: a worker that exits before its answer is read has the answer and 'exit'
      // emitted in one go (Node drains its port as it exits), and a listener added after would wait forever.
      const exited = new Promise((resolve) => worker.once("exit", resolve));
      await ask("stop");
      await exited;
    },
  };
}

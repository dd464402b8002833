// Bench plumbing: start Bullseye replicas (and the baseline server) as child processes, collect their
// JSON log lines, drive HTTP load with autocannon. Children die with the bench.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import autocannon from "autocannon";
import { stopChild } from "../../tests/helpers/child.ts";
import { START_NODE_FLAGS } from "../../tests/helpers/start-flags.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const spawned = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of spawned) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

export interface Child {
  child: ChildProcess;
  url: string;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

let built = false;

/**
 * Starts `script` with its env. Bullseye itself (src/index.ts) runs as users run it: the compiled
 * build with node and `npm start`'s flags (built first if stale), so memory and speed are the
 * production figures.
 */
export function spawnServer(script: string, env: Record<string, string>): Promise<Child> {
  let args = ["--import", "tsx", script];
  if (script === "src/index.ts") {
    if (!built) execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { cwd: ROOT, stdio: "inherit" });
    built = true;
    // BENCH_CPU_PROF=<dir>: each replica writes a CPU profile there when it exits.
    const profileDir = process.env.BENCH_CPU_PROF;
    // npm start's flags, then BENCH_NODE_FLAGS: extra node/V8 flags for every replica (e.g. "--trace-gc"),
    // space-separated (a later V8 flag overrides an earlier one).
    const flags = process.env.BENCH_NODE_FLAGS?.split(" ").filter(Boolean) ?? [];
    args = [
      ...START_NODE_FLAGS,
      ...flags,
      ...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []),
      "dist/src/index.js",
    ];
  }
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  spawned.add(child);
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === "listening" && entry.port) {
        resolve({
          child,
          url: `http://127.0.0.1:${entry.port}`,
          logs,
          stop: () => stopChild(child),
        });
      }
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

export async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await fetch(`${url}/readyz`).catch(() => null))?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server never became ready");
}

export interface LoadResult {
  requests?: number;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

export async function deliveryLoad(
  url: string,
  bodies: string[],
  { duration, connections }: { duration: number; connections: number },
): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/v1/delivery`,
    method: "POST",
    headers: { "content-type": "application/json" },
    connections,
    duration,
    requests: [{ setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }) }],
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

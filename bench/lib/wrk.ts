// Delivery load with wrk (C, from Debian) when it is installed: it needs far less CPU per request than
// autocannon, which matters when the load generator shares a 2-core machine with the server.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { LoadResult } from "./processes.ts";

export function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return (error as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

// Each wrk thread pre-formats every request once, then cycles through them from its own offset.
const SCRIPT = `
local requests = {}
local next = 1
function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", "/v1/delivery", { ["Content-Type"] = "application/json" }, line)
  end
  next = math.random(#requests)
end
function request()
  next = next % #requests + 1
  return requests[next]
end
`;

// Every request from an app never seen before (a counter in the app name).
const DISTINCT_SCRIPT = `
local n = 0
local prefix = "x"
function init(args)
  prefix = args[1] .. math.random(1000000)
end
function request()
  n = n + 1
  local body = '{"app":"com.new.' .. prefix .. '.app' .. n .. '","os":"ios","country":"US"}'
  return wrk.format("POST", "/v1/delivery", { ["Content-Type"] = "application/json" }, body)
end
`;

export interface WrkOptions {
  duration: number;
  connections: number;
  threads?: number;
  /** Ignore `bodies`: every request comes from a new app. */
  distinctApps?: boolean;
}

export async function wrkLoad(
  url: string,
  bodies: string[],
  { duration, connections, threads = 1, distinctApps = false }: WrkOptions,
): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(tmpdir(), "bullseye-wrk-"));
  try {
    if (!distinctApps) writeFileSync(path.join(dir, "bodies.txt"), `${bodies.join("\n")}\n`);
    writeFileSync(path.join(dir, "delivery.lua"), distinctApps ? DISTINCT_SCRIPT : SCRIPT);
    const args = ["-t", String(threads), "-c", String(connections), "-d", `${duration}s`, "--latency"];
    const scriptArg = distinctApps ? String(Date.now()) : path.join(dir, "bodies.txt");
    args.push("-s", path.join(dir, "delivery.lua"), url, "--", scriptArg);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "inherit"] });
      let text = "";
      child.stdout.on("data", (chunk) => {
        text += chunk;
      });
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
    });
    return parseWrk(output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parseWrk(output: string): LoadResult {
  const ms = (value: string, unit: string) => Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? 1);
  const latency = (p: string) => {
    const match = output.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m"));
    return match ? Math.round(ms(match[1] as string, match[2] as string) * 100) / 100 : Number.NaN;
  };
  // "    Latency     1.23ms    0.45ms  12.34ms   90.00%": avg, stdev, max.
  const summary = output.match(/^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)/m);
  const socket = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  const non2xx = Number(output.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  return {
    requests: Number(output.match(/(\d+) requests in/)?.[1] ?? Number.NaN),
    rps: Number(output.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? Number.NaN),
    p50: latency("50"),
    p99: latency("99"),
    max: summary ? Math.round(ms(summary[1] as string, summary[2] as string) * 100) / 100 : Number.NaN,
    errors: non2xx + (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
  };
}

// Redis for tests: a unique key/channel prefix on the shared server, or a private redis-server on a
// spare port that a fault test may stop and restart (never the shared one).
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import { stopChild } from "./child.ts";

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Set by the global setup: this run's keys all start `test:<run>:`, and its teardown deletes them. */
export const TEST_RUN_ENV = "BULLSEYE_TEST_RUN";

export const uniquePrefix = (name: string) =>
  `test:${process.env[TEST_RUN_ENV] ?? "adhoc"}:${name}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;

/**
 * Deletes the keys on the shared Redis under `pattern` (a replica's delivery stats, written with a
 * day's expiry, outlive the test that made them otherwise).
 */
export async function deleteSharedKeys(pattern: string): Promise<number> {
  const { Redis } = await import("ioredis");
  const redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    redis.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port (5 s at most). */
export async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50)); // poll interval
  }
  throw new Error(`nothing listens on port ${port}`);
}

export interface PrivateRedis {
  url: string;
  port: number;
  pid(): number | undefined;
  /** Stops this redis-server (SIGKILL by pid): clients see the connection drop. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** A private redis-server; `port` to start it where a replica already expects it, `password` for AUTH. */
export async function startPrivateRedis(options: { port?: number; password?: string } = {}): Promise<PrivateRedis> {
  const port = options.port ?? (await freePort());
  const auth = options.password ? ["--requirepass", options.password] : [];
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...auth],
      { stdio: "ignore" },
    );
    await waitForPort(port);
  };
  await start();
  return {
    url: options.password ? `redis://default:${options.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    async stop() {
      if (child) await stopChild(child, "SIGKILL");
    },
    start,
  };
}

export interface PrivateRedisCluster {
  /** Seed URL of the first node. */
  url: string;
  stop(): Promise<void>;
}

/** A private 3-master Redis Cluster on spare ports (redis-server --cluster-enabled + redis-cli --cluster create). */
export async function startPrivateRedisCluster(): Promise<PrivateRedisCluster> {
  const { mkdtemp, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const path = await import("node:path");
  const { execFile } = await import("node:child_process");
  const dir = await mkdtemp(path.join(tmpdir(), "bullseye-redis-cluster-"));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map((child) => stopChild(child, "SIGKILL")));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      children.push(
        spawn(
          "redis-server",
          [
            "--port",
            String(port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            `nodes-${port}.conf`,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            dir,
          ],
          { stdio: "ignore" },
        ),
      );
    }
    for (const port of ports) await waitForPort(port);
    await new Promise<void>((resolve, reject) =>
      execFile(
        "redis-cli",
        ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
        { timeout: 30_000 },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    // Wait until every node agrees the cluster is up.
    for (const port of ports) {
      for (let i = 0; i < 100; i++) {
        const state = await new Promise<string>((resolve) =>
          execFile("redis-cli", ["-p", String(port), "cluster", "info"], (_e, stdout) => resolve(String(stdout))),
        );
        if (state.includes("cluster_state:ok")) break;
        await new Promise((r) => setTimeout(r, 100)); // poll interval
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${ports[0]}`, stop };
}

/** One command Redis ran, as MONITOR reports it: who sent it ("lua" for a script) and its arguments. */
export interface MonitoredCommand {
  source: string;
  args: string[];
}

export interface RedisMonitor {
  readonly commands: MonitoredCommand[];
  close(): void;
}

/**
 * MONITOR over a plain socket. ioredis's monitor mode fails now and then with "Command queue state
 * error" when a monitored line arrives with MONITOR's own +OK; here every line after +OK is a command.
 * Resolves once Redis has answered +OK (commands from then on are reported).
 */
export function monitorRedis(url: string): Promise<RedisMonitor> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const commands: MonitoredCommand[] = [];
  let buffered = "";
  return new Promise((resolve, reject) => {
    let started = false;
    socket.once("error", reject);
    socket.on("connect", () => socket.write("MONITOR\r\n"));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let end = buffered.indexOf("\r\n");
      while (end !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        end = buffered.indexOf("\r\n");
        if (!started) {
          if (line !== "+OK") return reject(new Error(`MONITOR answered ${line}`));
          started = true;
          resolve({ commands, close: () => socket.destroy() });
          continue;
        }
        const parsed = parseMonitorLine(line);
        if (parsed) commands.push(parsed);
      }
    });
  });
}

/** `+1700000000.123456 [0 127.0.0.1:5555] "get" "key"` → source and unescaped arguments. */
function parseMonitorLine(line: string): MonitoredCommand | undefined {
  const head = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] /.exec(line);
  if (!head) return undefined;
  const args = [...line.slice(head[0].length).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
    (m[1] as string).replace(/\\x([0-9a-f]{2})|\\(.)/g, (_, hex: string | undefined, char: string) =>
      hex ? String.fromCharCode(Number.parseInt(hex, 16)) : ({ n: "\n", r: "\r", t: "\t" }[char] ?? char),
    ),
  );
  return { source: head[1] as string, args };
}

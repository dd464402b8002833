// Starts Bullseye for a test on a free port and waits until it is ready, two ways:
// - startServer: in this test process (src/runtime/start.ts's startReplica, what src/index.ts runs),
//   real HTTP on a real port, its log lines captured. The default: no process to spawn or compile.
// - startServerProcess: a child process running the compiled server as `npm start` runs it (`node
//   [its flags] dist/src/index.js`, built by the global setup), for tests where the process boundary
//   is the point: signals, exit codes, process-wide failures, several replicas that must not share an
//   event loop.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { pino } from "pino";
import { loadConfig } from "../../src/config.ts";
import type { Logger } from "../../src/logger.ts";
import { startReplica } from "../../src/runtime/start.ts";
import { graphqlClient } from "./graphql.ts";
import { START_NODE_FLAGS } from "./start-flags.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** What every test server runs with unless a test says otherwise. */
const TEST_DEFAULTS = {
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "info",
  INDEX_POLL_MS: "200",
  SHUTDOWN_DRAIN_MS: "0",
};

export interface RunningServer {
  url: string;
  port: number;
  /** Every log line the server printed so far (parsed JSON, or the raw text). */
  logs: unknown[];
  /** Stops it (a child: with this signal, resolving with its exit code). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ChildServer extends RunningServer {
  process: ChildProcess;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Wait for /readyz 200 (default) or only for the port. */
  waitReady?: boolean;
  timeoutMs?: number;
}

export interface ProcessOptions extends StartOptions {
  /** The checkout to run (default: this one) and how (default: the compiled server). */
  cwd?: string;
  args?: string[];
}

function environment(options: StartOptions): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, ...TEST_DEFAULTS, ...options.env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
  return env as Record<string, string>;
}

/** A pino logger writing into `logs` (parsed), as the process would print them. */
function capturingLogger(level: string, logs: unknown[]): Logger {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level, base: { service: "bullseye", pid: process.pid } }, sink) as unknown as Logger;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(environment(options));
  const logs: unknown[] = [];
  const replica = await startReplica(config, capturingLogger(config.LOG_LEVEL, logs));
  let stopped: Promise<number | null> | undefined;
  const server: RunningServer = {
    url: `http://127.0.0.1:${replica.port}`,
    port: replica.port,
    logs,
    stop() {
      stopped ??= replica.stop().then(
        () => 0,
        () => 1,
      );
      return stopped;
    },
  };
  if (options.waitReady !== false) {
    await Promise.race([
      waitUntil(async () => (await fetch(`${server.url}/readyz`)).status === 200, {
        timeoutMs: options.timeoutMs,
        what: "/readyz answers 200",
      }),
      replica.started.then(() => new Promise<never>(() => undefined)),
    ]).catch(async (error: unknown) => {
      await server.stop();
      throw new Error(`${(error as Error).message}; logs: ${JSON.stringify(logs.slice(-20))}`);
    });
  }
  return server;
}

/**
 * In-process replicas sharing `env`, one per id, returned once the first lists every one of them as
 * live (each has heard of the others: a mutation through one waits for all to confirm it).
 */
export async function startReplicas(ids: string[], env: Record<string, string | undefined>): Promise<RunningServer[]> {
  const servers = await Promise.all(ids.map((id) => startServer({ env: { ...env, REPLICA_ID: id } })));
  const listed = async () =>
    ((await graphqlClient(servers[0]!.url)("{ indexStatus { replicas { id } } }")).data?.indexStatus.replicas ??
      []) as { id: string }[];
  await waitUntil(async () => (await listed()).length === ids.length, {
    timeoutMs: 10_000,
    what: `${ids.join(", ")} listed as live replicas`,
  });
  return servers;
}

export async function startServerProcess(options: ProcessOptions = {}): Promise<ChildServer> {
  // Run by node itself (not through npm or the tsx CLI): signals, SIGKILL included, reach the app.
  const child = spawn(process.execPath, options.args ?? [...START_NODE_FLAGS, "dist/src/index.js"], {
    cwd: options.cwd ?? ROOT,
    env: environment(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: unknown[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a server behind: one that did not listen is stopped before the test fails.
      child.kill("SIGKILL");
      reject(new Error(`server did not listen in time: ${JSON.stringify(logs)}`));
    }, options.timeoutMs ?? 30_000);
    const onLine = (line: string) => {
      let entry: unknown = line;
      try {
        entry = JSON.parse(line);
      } catch {}
      logs.push(entry);
      const port =
        (entry as { msg?: string; port?: number }).msg === "listening" ? (entry as { port: number }).port : undefined;
      if (port) {
        clearTimeout(timer);
        resolve(port);
      }
    };
    createInterface({ input: child.stdout! }).on("line", onLine);
    createInterface({ input: child.stderr! }).on("line", onLine);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${JSON.stringify(logs)}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const server: ChildServer = {
    url,
    port,
    process: child,
    logs,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
  if (options.waitReady !== false) {
    await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200, {
      timeoutMs: options.timeoutMs,
      what: "/readyz answers 200",
    }).catch(async (error: unknown) => {
      await server.stop("SIGKILL");
      throw new Error(`${(error as Error).message}; logs: ${JSON.stringify(logs.slice(-20))}`);
    });
  }
  return server;
}

export interface WaitOptions {
  timeoutMs?: number;
  everyMs?: number;
  /** What the condition is, for the failure message. */
  what?: string;
}

/**
 * Polls `check` until it returns true; on timeout, fails naming what was awaited and the last thing
 * seen (the last error, or "false").
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  options: WaitOptions | number = {},
): Promise<void> {
  const {
    timeoutMs = 30_000,
    everyMs = 50,
    what = "condition",
  } = typeof options === "number" ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  let seen = "false";
  for (;;) {
    try {
      if (await check()) return;
      seen = "false";
    } catch (error) {
      seen = String((error as Error)?.message ?? error);
    }
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last seen: ${seen}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// Starts Bullseye as a real child process (`tsx src/index.ts`) on a free port and waits until ready.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.resolve(import.meta.dirname, "../..");

export interface RunningServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Every log line the server printed so far (parsed JSON, or the raw text). */
  logs: unknown[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Wait for /readyz 200 (default) or only for the port. */
  waitReady?: boolean;
  timeoutMs?: number;
  /** The checkout to run (default: this one). */
  cwd?: string;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  // One process (not the tsx CLI, which runs the app in a child): signals, SIGKILL included, reach the app.
  const child = spawn(process.execPath, ["--import", "tsx", "src/index.ts"], {
    cwd: options.cwd ?? ROOT,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      INDEX_POLL_MS: "200",
      SHUTDOWN_DRAIN_MS: "0",
      ...options.env,
    },
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
  const server: RunningServer = {
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
  if (options.waitReady !== false)
    await waitUntil(async () => (await fetch(`${url}/readyz`)).status === 200, options.timeoutMs);
  return server;
}

export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

// `npm start` as a supervisor runs it: the signal goes to the process it started — npm — not to the
// server. npm forwards SIGTERM/SIGINT to its script, and the script exec's node, so the server itself
// gets the signal, drains and exits; npm then exits with its code. Nothing may be left behind.
// Also: a built checkout starts without building or writing anything (compiled JavaScript, no tsx).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, graphqlClient } from "../helpers/graphql.ts";
import { waitUntil } from "../helpers/server.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** The server's command line: node, its flags from the start script, the compiled entry point. */
const SERVER_COMMAND = /node( --\S+)* dist\/src\/index\.js$/;

/** pid → [parent pid, process group, command line] for every process visible in /proc. */
function processTable(): Map<number, { ppid: number; pgrp: number; cmd: string }> {
  const table = new Map<number, { ppid: number; pgrp: number; cmd: string }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ")".
      const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      table.set(Number(entry), { ppid: Number(ppid), pgrp: Number(pgrp), cmd });
    } catch {} // exited while we looked
  }
  return table;
}

function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, info] of table) {
      if (info.ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portRefuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });

/** Newest modification time of any file under src/ and dist/: a start must not write there. */
function newestWrite(): number {
  let newest = 0;
  for (const dir of ["src", "dist"]) {
    for (const entry of readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

interface Started {
  npm: ChildProcess;
  port: number;
  serverPid: number;
  lines: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let database: TestDatabase;
const started: ChildProcess[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  // `npm test` builds in its pretest; run on its own, this file brings dist/ up to date first, so the
  // starts below must find nothing to build.
  execFileSync(process.execPath, ["scripts/ensure-build.mjs"], { cwd: ROOT, stdio: "inherit" });
}, 300_000);

afterAll(async () => {
  // Whatever a failed test left behind: only the groups this file started.
  for (const child of started) {
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  await database?.drop();
});

async function npmStart(): Promise<Started> {
  // detached: npm leads a process group of its own, so the check below can find all it started.
  const npm = spawn("npm", ["start"], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      ADMIN_TOKEN,
      LOG_LEVEL: "info",
      SHUTDOWN_DRAIN_MS: "200",
    },
  });
  started.push(npm);
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once("exit", (code, signal) => resolve({ code, signal })),
  );
  createInterface({ input: npm.stderr! }).on("line", (line) => stderr.push(line));
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: npm.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return; // npm's own "> bullseye@… start" lines
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === "listening") resolve(entry);
    });
    exited.then(({ code }) => reject(new Error(`npm start exited with ${code}: ${stderr.join("\n")}`)));
  });
  const entry = await listening;
  return { npm, port: entry.port as number, serverPid: entry.pid as number, lines, stderr, exited };
}

describe("npm start", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s to the npm process stops the server gracefully: port closed, no process left",
    async (signal) => {
      const before = newestWrite();
      const run = await npmStart();
      const npmPid = run.npm.pid!;

      // The server is npm's own child: the script exec'd node, no shell sits in between.
      const tree = descendants(npmPid);
      const table = processTable();
      expect(table.get(run.serverPid)?.ppid, "the server is a child of npm").toBe(npmPid);
      expect(table.get(run.serverPid)?.cmd).toMatch(SERVER_COMMAND);
      expect(tree.filter((pid) => !SERVER_COMMAND.test(table.get(pid)?.cmd ?? ""))).toEqual([]);
      const res = await fetch(`http://127.0.0.1:${run.port}/healthz`);
      expect(res.status).toBe(200);

      process.kill(npmPid, signal); // npm only, as a supervisor would — not the group, not the server

      const { code } = await run.exited;
      expect(code, run.stderr.join("\n")).toBe(0);
      expect(run.lines.find((line) => line.msg === "shutting down")).toMatchObject({ signal });
      expect(await portRefuses(run.port)).toBe(true);
      for (const pid of [npmPid, ...tree]) expect(alive(pid), `process ${pid} still runs`).toBe(false);
      const group = [...processTable()].filter(([, info]) => info.pgrp === npmPid);
      expect(group, "nothing left in npm's process group").toEqual([]);

      // Built already: the start compiled nothing, generated nothing, wrote nothing into src/ or dist/.
      expect(run.stderr.filter((line) => line.startsWith("bullseye: building"))).toEqual([]);
      expect(newestWrite()).toBe(before);
    },
    120_000,
  );

  it("runs the server with V8's young generation capped: a 3,000-campaign import leaves it at 8 MB", async () => {
    const run = await npmStart();
    try {
      const url = `http://127.0.0.1:${run.port}`;
      await waitUntil(async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 60_000, what: "ready" });
      const campaigns = Array.from({ length: 3_000 }, (_, i) => ({
        id: `young-${i}`,
        name: `Young ${i}`,
        imageUrl: `https://cdn.example/young/${i}.png`,
        cta: "Install",
        targeting: { include: { apps: Array.from({ length: 8 }, (_, j) => `com.young.app${i * 8 + j}`) } },
      }));
      const res = await graphqlClient(url)(
        "mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { count } }",
        { campaigns },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.importCampaigns.count).toBe(3_000);
      // prom-client's heap-space gauge: both semi-spaces. Uncapped, V8 grows them to 16 MB each while
      // the index takes in thousands of campaigns (what made its collections hold the loop 30-80 ms).
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const young = Number(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(metrics)?.[1]);
      expect(young).toBeGreaterThan(0);
      expect(young).toBeLessThanOrEqual(8 * 2 ** 20);
    } finally {
      process.kill(run.npm.pid!, "SIGTERM");
      await run.exited;
    }
  }, 120_000);
});

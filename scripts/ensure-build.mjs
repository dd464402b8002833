#!/usr/bin/env node
// Runs the build steps whose output is missing or older than their sources, and only those: `npm start`
// (prestart), `npm test` (pretest), `npm run dev`, `npm run db:seed` call it, so a fresh clone needs no
// step of its own and a built checkout starts at once. `npm run build` always rebuilds everything.
//
//   node scripts/ensure-build.mjs [generate] [dashboard] [server]     (default: all three, in that order)
//
// Plain JavaScript on purpose: it runs before anything is compiled, and in an installed build (the
// image: no src/, no dev dependencies) it only checks that dist/ is there. A build step runs in its own
// process group; SIGTERM or SIGINT sent to this process stops that whole group, so a supervisor's
// signal never orphans a build.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Each step: the npm script that builds it, what it writes, what it is built from. */
const STEPS = {
  generate: {
    script: "generate",
    outputs: ["src/generated/prisma/client.ts", "src/generated/pothos-types.ts"],
    inputs: ["prisma/schema.prisma", "package-lock.json"],
  },
  dashboard: {
    script: "build:dashboard",
    outputs: ["dist/dashboard/app.js", "dist/dashboard/index.html", "dist/dashboard/style.css"],
    inputs: ["dashboard", "scripts/build-dashboard.ts"],
  },
  server: {
    script: "build:server",
    outputs: ["dist/src/index.js", "dist/scripts/migrate.js", "dist/prisma/seed.js"],
    inputs: [
      "src",
      "scripts/migrate.ts",
      "prisma/seed.ts",
      "docs/openapi.json",
      "tsconfig.json",
      "tsconfig.build.json",
    ],
  },
};

/** Newest modification time under `target` (a file or a folder, recursively), with the file that has it. */
function newest(target) {
  const full = path.join(ROOT, target);
  if (!existsSync(full)) return { time: 0, file: target };
  const stat = statSync(full);
  if (!stat.isDirectory()) return { time: stat.mtimeMs, file: target };
  let best = { time: 0, file: target };
  for (const entry of readdirSync(full, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const time = statSync(file).mtimeMs;
    if (time > best.time) best = { time, file: path.relative(ROOT, file) };
  }
  return best;
}

/** Why a step must run, or null when its outputs are there and newer than every source. */
function staleReason(step) {
  const missing = step.outputs.find((file) => !existsSync(path.join(ROOT, file)));
  if (missing) return `${missing} is missing`;
  const built = Math.min(...step.outputs.map((file) => statSync(path.join(ROOT, file)).mtimeMs));
  let source = { time: 0, file: "" };
  for (const input of step.inputs) {
    const candidate = newest(input);
    if (candidate.time > source.time) source = candidate;
  }
  return source.time > built ? `${source.file} changed since the last build` : null;
}

let running;
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    if (running?.pid) {
      try {
        process.kill(-running.pid, signal);
      } catch {}
      running.once("exit", () => process.exit(128 + (signal === "SIGINT" ? 2 : 15)));
    } else process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  });
}

function runScript(script) {
  // Under npm, npm_execpath is npm's own CLI: the same npm, whatever PATH holds.
  const npm = process.env.npm_execpath;
  const [command, args] = npm ? [process.execPath, [npm, "run", "--silent", script]] : ["npm", ["run", script]];
  return new Promise((resolve, reject) => {
    running = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], detached: true });
    running.once("error", reject);
    running.once("exit", (code, signal) => {
      running = undefined;
      if (code === 0) resolve();
      else reject(new Error(`npm run ${script} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}

/** An installed build (the image: dist/ and prisma/, no sources, no dev dependencies) only checks dist/. */
function checkInstalled() {
  const missing = [...STEPS.dashboard.outputs, ...STEPS.server.outputs].filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length === 0) process.exit(0);
  process.stderr.write(`bullseye: ${missing.join(", ")} missing, and no sources here to build them from\n`);
  process.exit(1);
}
if (!existsSync(path.join(ROOT, "src"))) checkInstalled();

const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in STEPS)) throw new Error(`unknown step ${name}; known: ${Object.keys(STEPS)}`);
try {
  for (const [name, step] of Object.entries(STEPS)) {
    if (wanted.length && !wanted.includes(name)) continue;
    const reason = staleReason(step);
    if (!reason) continue;
    const started = performance.now();
    process.stderr.write(`bullseye: building ${name} (${reason})…\n`);
    await runScript(step.script);
    process.stderr.write(`bullseye: ${name} built in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
} catch (error) {
  process.stderr.write(`bullseye: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
}

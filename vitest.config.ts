import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

/**
 * Files where the process boundary is the point (signals, exit codes, worker processes, several
 * replicas that must not share an event loop, private Redis/Postgres servers stopped and started).
 */
const PROCESS_FILES = [
  "tests/integration/cluster.test.ts",
  "tests/integration/drain.test.ts",
  "tests/integration/npm-start.test.ts",
  "tests/integration/propagation.test.ts",
  "tests/integration/propagation-honest.test.ts",
  "tests/integration/propagation-redis-outage.test.ts",
  "tests/integration/redis-cluster.test.ts",
  "tests/integration/shutdown.test.ts",
  "tests/integration/subscription-fanout.test.ts",
  "tests/integration/topology.test.ts",
  "tests/integration/truncate.test.ts",
];

export default defineConfig({
  // graphql the way node resolves it (its CommonJS "main", not the "module" build vite would pick):
  // the server's code and the libraries it hands schemas to must share one graphql, as when it runs.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/global-setup.ts"],
    reporters: ["default", "./tests/reporters/summary.ts"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], maxWorkers: 3 },
      },
      // Every file on its own database, Redis prefix and ports: three at a time per project (on two cores
      // most of a server test is waiting on I/O and timers). One maxWorkers for all: vitest runs
      // projects together only when they agree on it.
      {
        extends: true,
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          exclude: PROCESS_FILES,
          // Files share a worker's loaded modules (the server's code is imported once per worker, not
          // once per file): every file still makes its own servers, databases and prefixes.
          isolate: false,
          maxWorkers: 3,
        },
      },
      {
        extends: true,
        test: { name: "processes", include: PROCESS_FILES, maxWorkers: 3 },
      },
    ],
  },
});

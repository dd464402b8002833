import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./tests/sequencer.ts";

/**
 * Files at a time, the same in both projects (vitest runs projects together only when they agree).
 * On two cores the suite is CPU-bound; 3 took as long as 4 (116 s), 5 no less.
 */
const WORKERS = 4;

export default defineConfig({
  // graphql the way node resolves it (its CommonJS "main", not the "module" build vite would pick):
  // the server's code and the libraries it hands schemas to must share one graphql, as when it runs.
  resolve: { alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve("graphql") }] },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ["tests/global-setup.ts"],
    sequence: { sequencer: LongestFirstSequencer },
    reporters: ["default", "./tests/reporters/summary.ts"],
    // Files share a worker's loaded modules (the server's code is imported once per worker, not once
    // per file, and no worker is started per file): every file still makes its own servers, databases,
    // Redis prefixes and ports.
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["tests/unit/**/*.test.ts"], isolate: false, maxWorkers: WORKERS },
      },
      {
        extends: true,
        test: { name: "integration", include: ["tests/integration/**/*.test.ts"], isolate: false, maxWorkers: WORKERS },
      },
    ],
  },
});

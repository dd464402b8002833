// WORKERS=2 on the embedded default (no DATABASE_URL): the primary runs PGlite for both workers (the
// suite: tests/helpers/cluster-suite.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { clusterSuite } from "../helpers/cluster-suite.ts";

clusterSuite({
  name: "on the embedded Postgres (no DATABASE_URL)",
  async setup() {
    const dir = await mkdtemp(path.join(tmpdir(), "bullseye-embedded-"));
    return {
      env: { DATABASE_URL: undefined, EMBEDDED_DATA_DIR: path.join(dir, "pglite") },
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

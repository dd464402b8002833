// WORKERS=2 on a real Postgres (the suite: tests/helpers/cluster-suite.ts; the embedded default runs it
// in cluster-embedded.test.ts).

import { clusterSuite } from "../helpers/cluster-suite.ts";
import { createTestDatabase } from "../helpers/database.ts";

clusterSuite({
  name: "on Postgres",
  async setup() {
    const database = await createTestDatabase();
    return { env: { DATABASE_URL: database.url }, cleanup: () => database.drop() };
  },
});

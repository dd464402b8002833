// A write that carries its change ahead of its commit (imports) commits only once this replica has
// built the snapshot the change makes: the other replicas build it from the same parts meanwhile, so
// they serve it at the commit, not after. Real Postgres; the carried change is a stand-in whose build
// ends when the test says, and which looks at what Postgres shows other sessions at that moment.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { createLogger } from "../../src/logger.ts";
import type { Context } from "../../src/schema/context.ts";
import { commitChange } from "../../src/schema/write.ts";
import { WriteGate } from "../../src/schema/write-gate.ts";
import type { PreparedChange } from "../../src/sync/propagation.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let database: TestDatabase;
let db: Db;

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 4 });
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

/** What another session (a replica reading the log, a DBA) sees as committed. */
async function committedVersion(): Promise<number> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: number }>('SELECT "version" FROM "change_counter"');
    return rows[0]?.version ?? 0;
  } finally {
    await client.end();
  }
}

function contextWith(prepared: PreparedChange): Context {
  return {
    principal: { name: "test", role: "admin", keyId: null },
    writes: new WriteGate({ concurrency: 1, maxQueued: 10, maxWaitMs: 10_000 }),
    writeDb: db,
    db,
    log: createLogger("silent"),
    prepareChange: () => prepared,
    afterCommit: async () => true,
  } as unknown as Context;
}

describe("a write that carries its change ahead", () => {
  it("commits only once this replica has built what it carried", async () => {
    const before = await committedVersion();
    let seenWhenBuilt: number | undefined;
    const prepared: PreparedChange = {
      token: "test",
      sent: Promise.resolve(),
      // The builds end 300 ms after the write's statement: other sessions still see the old version.
      built: () =>
        new Promise<void>((resolve) => setTimeout(resolve, 300)).then(async () => {
          seenWhenBuilt = await committedVersion();
        }),
      abandon: () => undefined,
    };
    const committed = await commitChange(
      contextWith(prepared),
      (tx) =>
        tx.$executeRaw`INSERT INTO campaign (id, name, image_url, cta) VALUES ('carried', 'C', 'https://x.example/c.png', 'Go')`,
      { carries: Promise.resolve({ campaigns: new Map(), categories: new Map() }) },
    );
    expect(seenWhenBuilt).toBe(before);
    expect(committed.version).toBe(before + 1);
    expect(await committedVersion()).toBe(before + 1);
  });
});

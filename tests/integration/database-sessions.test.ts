// The service's own Postgres sessions never JIT-compile a statement. Right after a bulk write, before
// autovacuum's ANALYZE, the index reads were estimated costly enough for JIT, and each paged statement
// paid ~100 ms of compiling for a few ms of work (a start-up build of 30,000 campaigns: 17 s instead of
// under 1 s). The threshold is forced to zero here, so any statement would be compiled if JIT were on.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../src/db/client.ts";
import { Prisma } from "../../src/generated/prisma/client.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

let database: TestDatabase;
let db: Db;

const STATEMENT = "SELECT sum(x) FROM generate_series(1, 10000) x";

/** Whether Postgres JIT-compiled the statement, run with every JIT threshold at zero. */
const compiled = (plan: unknown) => JSON.stringify(plan).includes('"JIT"');

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2 });
});

afterAll(async () => {
  await db?.$disconnect();
  await database?.drop();
});

describe("the service's database sessions", () => {
  it("run with JIT off, on every pooled connection", async () => {
    const settings = await Promise.all(
      Array.from({ length: 4 }, () => db.$queryRaw<{ jit: string }[]>`SHOW jit`.then((rows) => rows[0]?.jit)),
    );
    expect(settings).toEqual(["off", "off", "off", "off"]);
  });

  it("do not compile a statement whose cost passes the JIT threshold", async () => {
    const plan = await db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL jit_above_cost = 0`;
      const [row] = await tx.$queryRaw<{ "QUERY PLAN": unknown }[]>(
        Prisma.sql`EXPLAIN (ANALYZE, FORMAT JSON) ${Prisma.raw(STATEMENT)}`,
      );
      return row?.["QUERY PLAN"];
    });
    expect(plan).toBeDefined();
    expect(compiled(plan)).toBe(false);

    // The same statement on a plain session of this server is compiled (where the server can JIT at
    // all): the check above looks at the right thing.
    const [{ available } = { available: false }] = await database.sql<{ available: boolean }>(
      "SELECT pg_jit_available() AS available",
    );
    if (available) {
      const plain = new pg.Client({ connectionString: database.url });
      await plain.connect();
      try {
        await plain.query("SET jit_above_cost = 0");
        const { rows } = await plain.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${STATEMENT}`);
        expect(compiled(rows[0]?.["QUERY PLAN"])).toBe(true);
      } finally {
        await plain.end();
      }
    }
  });
});

// The embedded Postgres over TCP: many pooled clients take turns on PGlite's single session without
// seeing each other's statements or transactions, and a client that vanishes mid-transaction is rolled back.
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PGliteServer, servePGlite } from "../../src/db/pglite-server.ts";

let db: PGlite;
let server: PGliteServer;
let url: string;

beforeAll(async () => {
  db = await PGlite.create();
  server = await servePGlite(db);
  url = `postgresql://postgres:postgres@${server.address}/postgres?sslmode=disable`;
  await db.exec("CREATE TABLE items (id int PRIMARY KEY, note text)");
});

afterAll(async () => {
  await server?.close();
  await db?.close();
});

describe("PGlite served over TCP", () => {
  it("keeps each client's Parse/Bind/Execute together, so parallel parameterised queries get their own rows", async () => {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    try {
      const wrong: string[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async (_, client) => {
          for (let n = 0; n < 50; n++) {
            if (client % 2) {
              const { rows } = await pool.query("SELECT $1::int + 1 AS a", [n]);
              if (rows[0]?.a !== n + 1) wrong.push(`int ${n}`);
            } else {
              const { rows } = await pool.query("SELECT $1::text || 'x' AS b, 2 AS c", [String(n)]);
              if (rows[0]?.b !== `${n}x`) wrong.push(`text ${n}`);
            }
          }
        }),
      );
      expect(wrong).toEqual([]);
    } finally {
      await pool.end();
    }
  });

  it("runs one client's transaction alone: another client waits for its commit", async () => {
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      await a.query("BEGIN");
      await a.query("INSERT INTO items VALUES (1, 'inside')");
      let bSaw: number | undefined;
      const bRead = b.query("SELECT count(*)::int AS n FROM items WHERE id = 1").then((r) => {
        bSaw = r.rows[0].n;
      });
      // Deliberate wait: that b's read does not run shows only by giving it time to.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(bSaw).toBeUndefined(); // queued behind a's open transaction, not run inside it
      await a.query("COMMIT");
      await bRead;
      expect(bSaw).toBe(1);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it("rolls back the transaction of a client that disconnects, and serves the next client", async () => {
    // This test's rows: 10 committed beforehand, 11 left in the quitter's open transaction.
    await db.query("INSERT INTO items VALUES (10, 'committed before')");
    const quitter = new pg.Client({ connectionString: url });
    quitter.on("error", () => {}); // its own connection is cut below, on purpose
    await quitter.connect();
    await quitter.query("BEGIN");
    await quitter.query("INSERT INTO items VALUES (11, 'never committed')");
    (quitter as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();

    const next = new pg.Client({ connectionString: url });
    await next.connect();
    try {
      const { rows } = await next.query("SELECT id FROM items WHERE id IN (10, 11) ORDER BY id");
      expect(rows.map((r) => r.id)).toEqual([10]);
      await next.query("INSERT INTO items VALUES (11, 'committed')");
      expect((await next.query("SELECT note FROM items WHERE id = 11")).rows[0].note).toBe("committed");
    } finally {
      await next.end();
    }
  });
});

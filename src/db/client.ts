// The Prisma client on @prisma/adapter-pg. One per process; handed to the modules that need it.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";

export type Db = PrismaClient;

export interface DbOptions {
  max?: number;
  /**
   * Bounds every statement: `statement_timeout` on the server (a slow or lock-stuck statement is
   * cancelled) and pg's `query_timeout` on the client (a frozen server that never answers), a bit later.
   * Unset: no bound (index loads and bulk imports may legitimately run long).
   */
  queryTimeoutMs?: number;
  /** How long to wait for a pool connection (opening one included); default 2 s. */
  connectionTimeoutMs?: number;
  /**
   * How long an interactive transaction may wait to start (a pool connection and its BEGIN); default
   * 2 s: with a free write-gate slot there is a free connection, so a longer wait means a broken pool.
   */
  transactionWaitMs?: number;
  /** Called with every SQL statement Prisma sends (enables Prisma's query events). */
  onQuery?: (sql: string, durationMs: number) => void;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  // No JIT compilation. Postgres compiles a statement whose estimated cost passes jit_above_cost, and
  // right after a bulk write (before autovacuum's ANALYZE) the index reads' paged statements are
  // estimated that costly: each paid ~100 ms of compiling for a few ms of work (a start-up build of
  // 30,000 campaigns took 17 s, 0.85 s without). None of Bullseye's statements gains from it. Set on
  // each new connection before its first use (pg-pool's onConnect hook, not in @types/pg yet) rather
  // than as a startup `options` parameter, which PgBouncer refuses. A server without the setting keeps
  // its default.
  const config: pg.PoolConfig & { onConnect: (client: pg.PoolClient) => Promise<unknown> } = {
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 2_000,
    idleTimeoutMillis: 30_000,
    ...(options.queryTimeoutMs
      ? { statement_timeout: options.queryTimeoutMs, query_timeout: options.queryTimeoutMs + 100 }
      : {}),
    onConnect: (client) => client.query("SET jit = off").catch(() => undefined),
  };
  const pool = new pg.Pool(config);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const { onQuery } = options;
  const transactionOptions = { maxWait: options.transactionWaitMs ?? 2_000 };
  if (!onQuery) return new PrismaClient({ adapter, transactionOptions });
  const db = new PrismaClient({ adapter, transactionOptions, log: [{ emit: "event", level: "query" }] });
  db.$on("query", (event) => onQuery(event.query, event.duration));
  return db;
}

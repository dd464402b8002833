// Where the database comes from: DATABASE_URL, or the embedded Postgres (migrated, and prepared by the
// caller's `afterMigrate` — the demo seed on a first start) when it is unset. With WORKERS>1 the
// cluster primary owns the embedded Postgres and hands its URL to the workers as DATABASE_URL.

import { existsSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { createDb, type Db, type DbOptions } from "./client.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./embedded.ts";
import { deployMigrations } from "./migrate.ts";

export interface Database {
  /** Index loads: no statement bound (a full load of a big catalog takes seconds). */
  db: Db;
  /**
   * Mutations: one connection per write-gate slot (+1), statements bounded only loosely (they may wait
   * for the change counter's lock; a frozen database is noticed by a liveness probe instead).
   */
  writes: Db;
  /** GraphQL reads and the change feed: statements bounded by DATABASE_QUERY_TIMEOUT_MS. */
  api: Db;
  /**
   * Served versions (replica_presence): heartbeats and propagation checks, bounded like `api` but on
   * their own connections, so neither GraphQL load nor LOG_SQL output touches them.
   */
  presence: Db;
  close(): Promise<void>;
}

export interface OpenOptions {
  /**
   * Told each start-up step as it begins ("starting the embedded Postgres", "applying migrations 2/5"):
   * /readyz shows it while the replica starts.
   */
  onPhase?: (phase: string) => void;
  /** Runs on the embedded database once it is migrated, on one connection (the demo seed, on a first start). */
  afterMigrate?: (db: Db) => Promise<void>;
  /**
   * Stops preparing the embedded database at the next step (before a migration, before `afterMigrate`):
   * it is closed and the call rejects with the signal's reason. Creating its data directory runs to
   * the end (cut short, the directory would be left half made).
   */
  signal?: AbortSignal;
}

/** Connections of the index's client: it reads one thing at a time. */
const INDEX_POOL_SIZE = 3;
const PRESENCE_POOL_SIZE = 2;
/** A write statement not answered in this time has its connection given up (frees a stuck pool). */
const WRITE_STATEMENT_TIMEOUT_MS = 60_000;

/** PGlite runs every connection's statements on one backend, one at a time: more connections only queue. */
export const EMBEDDED_POOL_SIZE = 4;

export async function openDatabase(config: Config, log: Logger, options: OpenOptions = {}): Promise<Database> {
  const onQuery = config.LOG_SQL ? (sql: string, ms: number) => log.debug({ sql, ms }, "sql") : undefined;
  const bounded = {
    onQuery,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
    connectionTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
  };
  const writePool = { onQuery, max: config.WRITE_CONCURRENCY + 1 };
  if (config.DATABASE_URL && process.env[SERVED_BY_PRIMARY] === "1") {
    const pools = embeddedPools(config.DATABASE_URL, onQuery, writePool);
    return { ...pools, close: () => disconnectAll(...Object.values(pools)) };
  }
  if (config.DATABASE_URL) {
    const db = createDb(config.DATABASE_URL, { max: INDEX_POOL_SIZE, onQuery });
    const writes = createDb(config.DATABASE_URL, { ...writePool, queryTimeoutMs: WRITE_STATEMENT_TIMEOUT_MS });
    const api = createDb(config.DATABASE_URL, { ...bounded, max: config.DATABASE_POOL_SIZE });
    const presence = createDb(config.DATABASE_URL, { ...bounded, onQuery: undefined, max: PRESENCE_POOL_SIZE });
    return { db, writes, api, presence, close: () => disconnectAll(db, writes, api, presence) };
  }
  const embedded = await prepareEmbeddedPostgres(config, log, options);
  const pools = embeddedPools(embedded.url, onQuery, writePool);
  return {
    ...pools,
    async close() {
      await disconnectAll(...Object.values(pools));
      await embedded.stop();
    },
  };
}

/**
 * Set by a cluster primary that runs the embedded Postgres for its workers (src/cluster/primary.ts):
 * their DATABASE_URL is that server, so they open it by the embedded rules below.
 */
export const SERVED_BY_PRIMARY = "BULLSEYE_EMBEDDED_DATABASE";

/**
 * Work on the embedded Postgres waits for its turn: PGlite runs every client on one session (and
 * ignores statement_timeout), so a short bound on a statement, on connecting or on starting a
 * transaction would only fail work queued behind an index load or a burst of writes — a database that
 * is busy, not gone. With the 1.5–2 s bounds a Postgres connection has, a transaction holding the
 * embedded database for 3 s failed six concurrent writes UNAVAILABLE (tests/helpers/cluster-suite.ts).
 */
const EMBEDDED_WAIT_MS = 60_000;

function embeddedPools(url: string, onQuery: DbOptions["onQuery"], writePool: DbOptions) {
  const connectionTimeoutMs = EMBEDDED_WAIT_MS;
  return {
    db: createDb(url, { max: 2, onQuery, connectionTimeoutMs }),
    // BEGIN waits for the session while other clients' transactions run.
    writes: createDb(url, { ...writePool, connectionTimeoutMs, transactionWaitMs: EMBEDDED_WAIT_MS }),
    api: createDb(url, { onQuery, max: EMBEDDED_POOL_SIZE, connectionTimeoutMs }),
    presence: createDb(url, { max: PRESENCE_POOL_SIZE, connectionTimeoutMs }),
  };
}

async function disconnectAll(...clients: Db[]): Promise<void> {
  await Promise.all(clients.map((client) => client.$disconnect()));
}

/**
 * Starts the embedded Postgres, applies pending migrations, then runs `afterMigrate`. A first start
 * takes a while on WASM (creating the cluster, then each migration): every step logs a line and is
 * reported to `onPhase` as it begins, so the wait is never silent.
 */
export async function prepareEmbeddedPostgres(
  config: Config,
  log: Logger,
  options: OpenOptions = {},
): Promise<EmbeddedPostgres> {
  const { onPhase, afterMigrate, signal } = options;
  const dataDir = config.EMBEDDED_DATA_DIR;
  log.warn(
    { dataDir },
    "DATABASE_URL is not set: using the embedded Postgres (PGlite), one host only; not for production.",
  );
  const firstStart = !existsSync(path.join(dataDir, "PG_VERSION"));
  log.info(
    { dataDir },
    firstStart
      ? "creating the embedded Postgres: first start only, initialising its data directory takes 5–30 s"
      : "opening the embedded Postgres",
  );
  onPhase?.(firstStart ? "creating the embedded Postgres (first start: 5–30 s)" : "starting the embedded Postgres");
  let started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const embedded = await startEmbeddedPostgres(dataDir);
  log.info({ ms: elapsed() }, "embedded Postgres started");
  try {
    signal?.throwIfAborted();
    onPhase?.("checking migrations");
    started = performance.now();
    const applied = await deployMigrations(embedded.url, {
      onStep: ({ name, step, of, ms }) => {
        if (ms !== undefined) return;
        signal?.throwIfAborted(); // the engine stops before this migration
        log.info({ migration: name, step: `${step}/${of}` }, `applying migration ${step}/${of}`);
        onPhase?.(`applying migrations ${step}/${of}`);
      },
    });
    if (applied.length) log.info({ applied, ms: elapsed() }, "migrations applied to the embedded database");
    signal?.throwIfAborted();
    if (afterMigrate) {
      const db = createDb(embedded.url, { max: 1 });
      try {
        await afterMigrate(db);
      } finally {
        await db.$disconnect();
      }
    }
    return embedded;
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

// Where the database comes from: DATABASE_URL, or the embedded Postgres (migrated and seeded with the
// demo catalog on first start) when it is unset. With WORKERS>1 the cluster primary owns the embedded
// Postgres and hands its URL to the workers as DATABASE_URL.

import { existsSync } from "node:fs";
import path from "node:path";
import type { Config } from "./config.ts";
import { createDb, type Db } from "./db/client.ts";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "./db/embedded.ts";
import { deployMigrations } from "./db/migrate.ts";
import type { Logger } from "./logger.ts";
import { demoData } from "./seed/demo.ts";
import { writeSeed } from "./seed/write.ts";

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

/** Connections of the index's client: it reads one thing at a time. */
const INDEX_POOL_SIZE = 3;
const PRESENCE_POOL_SIZE = 2;
/** A write statement not answered in this time has its connection given up (frees a stuck pool). */
const WRITE_STATEMENT_TIMEOUT_MS = 60_000;

/** PGlite runs every connection's statements on one backend, one at a time: more connections only queue. */
export const EMBEDDED_POOL_SIZE = 4;

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  const onQuery = config.LOG_SQL ? (sql: string, ms: number) => log.debug({ sql, ms }, "sql") : undefined;
  const bounded = {
    onQuery,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
    connectionTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
  };
  const writePool = { onQuery, max: config.WRITE_CONCURRENCY + 1 };
  if (config.DATABASE_URL) {
    const db = createDb(config.DATABASE_URL, { max: INDEX_POOL_SIZE, onQuery });
    const writes = createDb(config.DATABASE_URL, { ...writePool, queryTimeoutMs: WRITE_STATEMENT_TIMEOUT_MS });
    const api = createDb(config.DATABASE_URL, { ...bounded, max: config.DATABASE_POOL_SIZE });
    const presence = createDb(config.DATABASE_URL, { ...bounded, onQuery: undefined, max: PRESENCE_POOL_SIZE });
    return { db, writes, api, presence, close: () => disconnectAll(db, writes, api, presence) };
  }
  const embedded = await prepareEmbeddedPostgres(config, log);
  // PGlite runs every client on one session in turns (and ignores statement_timeout): a bound would
  // only fail queries that wait behind an index load.
  const db = createDb(embedded.url, { max: 2, onQuery });
  const writes = createDb(embedded.url, writePool);
  const api = createDb(embedded.url, { onQuery, max: EMBEDDED_POOL_SIZE });
  const presence = createDb(embedded.url, { max: PRESENCE_POOL_SIZE });
  return {
    db,
    writes,
    api,
    presence,
    async close() {
      await disconnectAll(db, writes, api, presence);
      await embedded.stop();
    },
  };
}

async function disconnectAll(...clients: Db[]): Promise<void> {
  await Promise.all(clients.map((client) => client.$disconnect()));
}

/**
 * Starts the embedded Postgres, applies pending migrations and seeds the demo catalog into an empty one.
 * A first start takes a while on WASM (creating the cluster, then each migration): every step logs a
 * line as it begins, so the wait is never silent.
 */
export async function prepareEmbeddedPostgres(config: Config, log: Logger): Promise<EmbeddedPostgres> {
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
  let started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const embedded = await startEmbeddedPostgres(dataDir);
  log.info({ ms: elapsed() }, "embedded Postgres started");
  try {
    started = performance.now();
    const applied = await deployMigrations(embedded.url, {
      onStep: ({ name, step, of, ms }) => {
        if (ms === undefined) log.info({ migration: name, step: `${step}/${of}` }, `applying migration ${step}/${of}`);
      },
    });
    if (applied.length) log.info({ applied, ms: elapsed() }, "migrations applied to the embedded database");
    const db = createDb(embedded.url, { max: 1 });
    try {
      if ((await db.campaign.count()) === 0 && (await db.category.count()) === 0) {
        log.info("seeding the embedded database with the demo catalog");
        started = performance.now();
        await writeSeed(db, demoData);
        log.info(
          { campaigns: demoData.campaigns.length, ms: elapsed() },
          "embedded database seeded with the demo catalog",
        );
      }
    } finally {
      await db.$disconnect();
    }
    return embedded;
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

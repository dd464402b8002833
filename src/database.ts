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
  db: Db;
  close(): Promise<void>;
}

/** PGlite runs every connection's statements on one backend, one at a time: more connections only queue. */
export const EMBEDDED_POOL_SIZE = 4;

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  const onQuery = config.LOG_SQL ? (sql: string, ms: number) => log.debug({ sql, ms }, "sql") : undefined;
  if (config.DATABASE_URL) {
    const db = createDb(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE, onQuery });
    return { db, close: () => db.$disconnect() };
  }
  const embedded = await prepareEmbeddedPostgres(config, log);
  const db = createDb(embedded.url, { max: EMBEDDED_POOL_SIZE, onQuery });
  return {
    db,
    async close() {
      await db.$disconnect();
      await embedded.stop();
    },
  };
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

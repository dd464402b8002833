// Where the database comes from: DATABASE_URL, or the embedded Postgres (migrated and seeded with the
// demo catalog on first start) when it is unset.

import type { Config } from "./config.ts";
import { createDb, type Db } from "./db/client.ts";
import { startEmbeddedPostgres } from "./db/embedded.ts";
import { deployMigrations } from "./db/migrate.ts";
import type { Logger } from "./logger.ts";
import { demoData } from "./seed/demo.ts";
import { writeSeed } from "./seed/write.ts";

export interface Database {
  db: Db;
  embedded: boolean;
  close(): Promise<void>;
}

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  const onQuery = config.LOG_SQL ? (sql: string, ms: number) => log.debug({ sql, ms }, "sql") : undefined;
  if (config.DATABASE_URL) {
    const db = createDb(config.DATABASE_URL, { onQuery });
    return { db, embedded: false, close: () => db.$disconnect() };
  }
  log.warn(
    { dataDir: config.EMBEDDED_DATA_DIR },
    "DATABASE_URL is not set: using the embedded Postgres (PGlite). Single replica only; not for production.",
  );
  const embedded = await startEmbeddedPostgres(config.EMBEDDED_DATA_DIR);
  const applied = await deployMigrations(embedded.url);
  if (applied.length) log.info({ applied }, "migrations applied to the embedded database");
  // PGlite has one session for every connection: a small pool is all it can use.
  const db = createDb(embedded.url, { max: 4, onQuery });
  if ((await db.campaign.count()) === 0 && (await db.category.count()) === 0) {
    await writeSeed(db, demoData);
    log.info({ campaigns: demoData.campaigns.length }, "embedded database seeded with the demo catalog");
  }
  return {
    db,
    embedded: true,
    async close() {
      await db.$disconnect();
      await embedded.stop();
    },
  };
}

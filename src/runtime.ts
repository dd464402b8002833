// One replica: database, index, HTTP server. Built from a Config; listens; stops cleanly.
import type { AddressInfo } from "node:net";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { openDatabase } from "./database.ts";
import type { Logger } from "./logger.ts";
import { createGraphQLHandler } from "./schema/yoga.ts";
import { IndexSync } from "./sync/index-sync.ts";
import { createLocalPropagation } from "./sync/propagation.ts";

export interface Replica {
  port: number;
  stop(): Promise<void>;
}

const RETRY_MAX_MS = 10_000;

export async function startReplica(config: Config, log: Logger): Promise<Replica> {
  const database = await openDatabase(config, log);
  const sync = new IndexSync(database.db, log);
  let lastLoadError: string | undefined;
  const graphql = createGraphQLHandler({
    db: database.db,
    sync,
    config,
    log,
    afterCommit: createLocalPropagation(sync, config.PROPAGATION_TIMEOUT_MS, log),
  });

  const server = createApp({
    index: sync,
    readiness: () => ({
      ready: sync.snapshot !== null,
      detail: sync.snapshot
        ? { version: sync.snapshot.version, campaigns: sync.snapshot.campaignCount }
        : { reason: lastLoadError ? `index not loaded: ${lastLoadError}` : "index not loaded yet" },
    }),
    routes: { "/graphql": graphql },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ port, host: config.HOST, replica: config.REPLICA_ID }, "listening");

  let stopping = false;
  const loaded = (async () => {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const snapshot = await sync.refresh();
        log.info({ version: snapshot.version, campaigns: snapshot.campaignCount }, "index loaded");
        sync.startPolling(config.INDEX_POLL_MS);
        return;
      } catch (error) {
        lastLoadError = error instanceof Error ? error.message.split("\n")[0] : String(error);
        const delay = Math.min(RETRY_MAX_MS, 250 * 2 ** attempt);
        log.error({ err: error, retryInMs: delay }, "cannot load the index; retrying");
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  })();

  return {
    port,
    async stop() {
      stopping = true;
      sync.stopPolling();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await loaded.catch(() => undefined);
      await graphql.dispose();
      await database.close();
    },
  };
}

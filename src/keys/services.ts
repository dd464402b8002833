// What issue 16 adds to a running replica, started and stopped together: the API-key cache (polls
// api_key_counter, hears key changes on the bus, writes lastUsedAt in batches) and history retention.
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { startHistoryRetention } from "../store/history-retention.ts";
import type { Bus } from "../sync/bus.ts";
import { KeyStore } from "./key-store.ts";

export interface AuditServices {
  keys: KeyStore;
  stop(): Promise<void>;
}

/**
 * `pollDb`: small, frequent background statements (the key poll); a pool of its own keeps them out of
 * GraphQL's pool and out of LOG_SQL. `db`: the occasional history prune.
 */
export async function startAuditServices(
  pollDb: Db,
  db: Db,
  bus: Bus,
  config: Pick<Config, "HISTORY_DAYS">,
  log: Logger,
): Promise<AuditServices> {
  const keys = new KeyStore(pollDb, bus, log.child({ component: "api-keys" }));
  await keys.start();
  const retention = startHistoryRetention(db, config.HISTORY_DAYS, log.child({ component: "history" }));
  return {
    keys,
    async stop() {
      await retention.stop();
      await keys.stop();
    },
  };
}

// The per-request GraphQL context: who is asking, the shared services, and request-scoped loaders
// (created on first use, so requests that need none pay nothing).
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { createStatsLoader, type StatsLoader } from "../stats/loader.ts";
import { createMemoryStatsStore, type StatsStore } from "../stats/store.ts";
import type { IndexSync } from "../sync/index-sync.ts";
import type { ReplicaRegistry } from "../sync/replicas.ts";
import { createLoaders, type Loaders } from "./loaders.ts";

export type Role = "admin" | "viewer";

/** What the GraphQL API needs from the process; built once at start. */
export interface GraphQLDeps {
  db: Db;
  sync: IndexSync;
  config: Config;
  log: Logger;
  replicas: ReplicaRegistry;
  /** Aborted when the process shuts down: long-lived subscriptions end. */
  shutdown?: AbortSignal;
  /** Counts each executed operation (metrics). */
  observeOperation?: (type: string, name: string | undefined, outcome: "ok" | "error") => void;
  /**
   * The commit hook: called by every mutation after its transaction committed, with the version it
   * allocated. Resolves to `propagated` (CONTRACT §4 "read your write").
   */
  afterCommit(version: number): Promise<boolean>;
  /** Delivery stats (Campaign.stats); absent → an empty in-process store. */
  stats?: StatsStore;
}

export interface Context {
  readonly role: Role;
  readonly db: Db;
  readonly sync: IndexSync;
  readonly config: Config;
  readonly replicas: ReplicaRegistry;
  readonly shutdown?: AbortSignal;
  afterCommit(version: number): Promise<boolean>;
  readonly loaders: Loaders;
  /** Campaign.stats reads, batched per request (one Redis round trip). */
  readonly statsLoader: StatsLoader;
}

export function createContext(deps: GraphQLDeps, role: Role): Context {
  let loaders: Loaders | undefined;
  let statsLoader: StatsLoader | undefined;
  return {
    role,
    db: deps.db,
    sync: deps.sync,
    config: deps.config,
    replicas: deps.replicas,
    shutdown: deps.shutdown,
    afterCommit: (version) => deps.afterCommit(version),
    get loaders() {
      loaders ??= createLoaders(deps.db);
      return loaders;
    },
    get statsLoader() {
      deps.stats ??= createMemoryStatsStore();
      statsLoader ??= createStatsLoader(deps.stats);
      return statsLoader;
    },
  };
}

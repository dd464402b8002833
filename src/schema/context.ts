// The per-request GraphQL context: who is asking, the shared services, and request-scoped loaders.
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import type { KeyStore } from "../keys/key-store.ts";
import type { Logger } from "../logger.ts";
import { createStatsLoader, type StatsLoader } from "../stats/loader.ts";
import { createMemoryStatsStore, type StatsStore } from "../stats/store.ts";
import type { CarriedChange } from "../sync/carried-change.ts";
import type { ChangeFeed } from "../sync/change-feed.ts";
import type { Forecaster } from "../sync/forecasts.ts";
import type { IndexSync } from "../sync/index-sync.ts";
import type { PreparedChange } from "../sync/propagation.ts";
import type { ReplicaRegistry, ReplicaState } from "../sync/replicas.ts";
import type { Principal, Role } from "./auth.ts";
import { createLoaders, type Loaders } from "./loaders.ts";
import type { SubscriptionLimits } from "./subscription-limits.ts";
import { WriteGate } from "./write-gate.ts";

/** What the GraphQL API needs from the process; built once at start. */
export interface GraphQLDeps {
  /** The primary, with short query timeouts: a frozen or unreachable database is UNAVAILABLE in ~2 s. */
  db: Db;
  /**
   * The primary for mutations: statements may wait long for the change counter's lock under contention
   * (no short statement bound; a frozen database is noticed by write.ts's liveness probe). Absent → `db`.
   */
  writeDb?: Db;
  /** The process-wide bound on concurrent write transactions; absent → one from config. */
  writes?: WriteGate;
  /** The replica's one change-log tail, fanned out to every ruleChanges subscriber. */
  feed: ChangeFeed;
  /** Open subscriptions per token and per replica. */
  subscriptionLimits: SubscriptionLimits;
  /** Live replicas as the bus and Postgres see them together; absent → the bus's view only. */
  liveReplicas?: () => Promise<ReplicaState[]>;
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
   * allocated, and the change it carried to the replicas ahead of the commit, if any. Resolves to
   * `propagated` (docs/CONTRACT.md §4 "read your write").
   */
  afterCommit(version: number, prepared?: PreparedChange): Promise<boolean>;
  /**
   * Carries to every replica, while a write's transaction runs, the whole state it will leave these
   * campaigns or categories in (imports, category app sets, category deletions), so that they serve it
   * at once when it commits. Absent: nothing is carried.
   */
  prepareChange?(change: CarriedChange): PreparedChange;
  /** Delivery stats (Campaign.stats); absent → an empty in-process store. */
  stats?: StatsStore;
  /** The database a query (read-only operation) reads: the read replica when fresh enough. Absent → `db`. */
  readDatabase?: () => Promise<Db>;
  /** This replica's cache of named API keys; absent → only the env tokens authenticate. */
  keys?: KeyStore;
  /** Reach forecasts from every replica's traffic sample; absent → forecast answers UNAVAILABLE. */
  forecasts?: Forecaster;
}

export interface Context {
  /** Who is asking: named in the audit trail of every change this request makes. */
  readonly principal: Principal;
  readonly role: Role;
  readonly keys?: KeyStore;
  readonly writeDb: Db;
  readonly writes: WriteGate;
  readonly feed: ChangeFeed;
  readonly subscriptionLimits: SubscriptionLimits;
  readonly log: Logger;
  liveReplicas(): Promise<ReplicaState[]>;
  /** The primary; a query's context is switched to the read database before it executes (readFrom). */
  db: Db;
  /** The primary with GraphQL's short timeouts, whichever database `db` points at. */
  readonly primary: Db;
  readonly sync: IndexSync;
  readonly config: Config;
  readonly replicas: ReplicaRegistry;
  readonly shutdown?: AbortSignal;
  afterCommit(version: number, prepared?: PreparedChange): Promise<boolean>;
  prepareChange?(change: CarriedChange): PreparedChange;
  loaders: Loaders;
  /** Campaign.stats reads, batched per request (one Redis round trip). */
  readonly statsLoader: StatsLoader;
  /** The delivery stats store itself (whole-catalog reads: hour totals). */
  readonly stats: StatsStore;
  readonly forecasts?: Forecaster;
}

export function createContext(deps: GraphQLDeps, principal: Principal): Context {
  deps.stats ??= createMemoryStatsStore();
  deps.writes ??= new WriteGate({
    concurrency: deps.config.WRITE_CONCURRENCY,
    maxQueued: deps.config.WRITE_QUEUE_MAX,
    maxWaitMs: deps.config.WRITE_QUEUE_TIMEOUT_MS,
  });
  return {
    principal,
    role: principal.role,
    keys: deps.keys,
    writeDb: deps.writeDb ?? deps.db,
    writes: deps.writes,
    feed: deps.feed,
    subscriptionLimits: deps.subscriptionLimits,
    log: deps.log,
    liveReplicas: deps.liveReplicas ?? (async () => deps.replicas.live()),
    db: deps.db,
    primary: deps.db,
    sync: deps.sync,
    config: deps.config,
    replicas: deps.replicas,
    shutdown: deps.shutdown,
    afterCommit: (version, prepared) => deps.afterCommit(version, prepared),
    prepareChange: deps.prepareChange,
    loaders: createLoaders(deps.db),
    statsLoader: createStatsLoader(deps.stats),
    stats: deps.stats,
    forecasts: deps.forecasts,
  };
}

/** Points every database read of this operation at `db`; called before execution starts. */
export function readFrom(context: Context, db: Db): void {
  if (context.db === db) return;
  context.db = db;
  context.loaders = createLoaders(db);
}

// Wiring: builds one replica's services on an open database — the fan-out bus, delivery stats, the
// index and its sync, replica presence, metrics, the GraphQL handler and its WebSocket handler — and
// knows how to release them again, in order. Nothing here listens or loads: start.ts does that.
import type { Config } from "../config.ts";
import { createDb } from "../db/client.ts";
import type { Database } from "../db/open.ts";
import { ReadRouter } from "../db/read-router.ts";
import { startAuditServices } from "../keys/services.ts";
import type { Logger } from "../logger.ts";
import { createMetrics, type Metrics } from "../metrics.ts";
import { SubscriptionLimits } from "../schema/subscription-limits.ts";
import { WriteGate } from "../schema/write-gate.ts";
import { createGraphQLHandler, createGraphQLWebSocket } from "../schema/yoga.ts";
import { createDeliveryStats, type DeliveryStats } from "../stats/stats.ts";
import { type Bus, createBus } from "../sync/bus.ts";
import { ChangeFeed } from "../sync/change-feed.ts";
import { createForecaster } from "../sync/forecasts.ts";
import { IndexSync } from "../sync/index-sync.ts";
import { createPropagation } from "../sync/propagation.ts";
import { joinReplicas, type Presence } from "../sync/replica-presence.ts";
import { mergeLive, ReplicaRegistry } from "../sync/replicas.ts";
import { ServedVersions } from "../sync/served-versions.ts";
import { warmUp } from "./warm-up.ts";

export interface Services {
  sync: IndexSync;
  bus: Bus;
  stats: DeliveryStats;
  metrics: Metrics;
  /** The /graphql request listener (Yoga). */
  graphql: ReturnType<typeof createGraphQLHandler>;
  /** graphql-ws on /graphql. */
  websockets: ReturnType<typeof createGraphQLWebSocket>;
  /** Releases everything, the database last; call once nothing uses the services any more. */
  release(): Promise<void>;
}

/** `shutdown` aborts when the replica starts stopping: new subscriptions are refused, open ones end. */
export async function wireServices(
  config: Config,
  log: Logger,
  database: Database,
  shutdown: AbortSignal,
): Promise<Services> {
  const bus = createBus(config, log);
  const stats = createDeliveryStats(config, log);
  const replicas = new ReplicaRegistry(config.REPLICA_ID);
  const writes = new WriteGate({
    concurrency: config.WRITE_CONCURRENCY,
    maxQueued: config.WRITE_QUEUE_MAX,
    maxWaitMs: config.WRITE_QUEUE_TIMEOUT_MS,
  });
  const subscriptionLimits = new SubscriptionLimits(config.SUBSCRIPTIONS_PER_TOKEN_MAX, config.SUBSCRIPTIONS_MAX);
  const served = new ServedVersions(database.presence, config.REPLICA_ID, log.child({ component: "presence" }));
  let presence: Presence | undefined;
  let metrics: Metrics | undefined;
  const replicaDb = config.DATABASE_REPLICA_URL
    ? createDb(config.DATABASE_REPLICA_URL, { max: config.DATABASE_POOL_SIZE })
    : undefined;
  const sync = new IndexSync(database.db, log, {
    replicaDb,
    answerCacheBytes: config.ANSWER_CACHE_MB * 1024 * 1024,
    trafficWindowMs: config.TRAFFIC_SAMPLE_WINDOW_MS,
    onApplied: (snapshot, how, seconds) => {
      presence?.announce(snapshot.version);
      metrics?.indexApplied(how, seconds);
    },
  });
  const releaseConnections = async () => {
    await stats.stop();
    await bus.close();
    await replicaDb?.$disconnect();
    await database.close();
  };
  try {
    presence = await joinReplicas(config.REPLICA_ID, bus, sync, replicas, served, log);
  } catch (error) {
    await releaseConnections();
    throw error;
  }
  const latestKnownVersion = () => Math.max(sync.version, replicas.newestVersion(), presence?.newestAnnounced() ?? 0);
  metrics = createMetrics({
    indexVersion: () => sync.version,
    indexCampaigns: () => sync.snapshot?.campaignCount ?? 0,
    answerCache: () => sync.snapshot?.answerCacheUsage,
    latestKnownVersion,
    postgresUp: () => sync.databaseReachable,
    redisUp: () => bus.connected(),
    subscriptions: () => subscriptionLimits.open,
    writesQueued: () => writes.queued,
  });
  const reads = new ReadRouter(database.api, replicaDb, log, { onRoute: metrics.graphqlRead });
  let audit: Awaited<ReturnType<typeof startAuditServices>>;
  try {
    audit = await startAuditServices(database.presence, database.db, bus, config, log);
  } catch (error) {
    metrics.stop();
    await presence.stop();
    await releaseConnections();
    throw error;
  }
  const propagation = createPropagation({
    sync,
    bus,
    replicas,
    served,
    replicaId: config.REPLICA_ID,
    timeoutMs: config.PROPAGATION_TIMEOUT_MS,
    log,
  });
  const graphql = createGraphQLHandler({
    forecasts: createForecaster({ bus, sync, replicaId: config.REPLICA_ID, log }),
    db: database.api,
    writeDb: database.writes,
    feed: new ChangeFeed(database.api, sync, log.child({ component: "change-feed" })),
    subscriptionLimits,
    writes,
    liveReplicas: () =>
      served.live().then(
        (fromDatabase) => mergeLive(replicas, fromDatabase),
        () => replicas.live(),
      ),
    readDatabase: replicaDb ? () => reads.forRead(latestKnownVersion()) : undefined,
    sync,
    config,
    log,
    replicas,
    shutdown,
    observeOperation: metrics.graphqlOperation,
    stats: stats.store,
    keys: audit.keys,
    afterCommit: propagation.afterCommit,
    prepareChange: propagation.prepare,
  });
  const websockets = createGraphQLWebSocket(graphql, config);
  await warmUp(database, log, graphql, config.ADMIN_TOKEN);
  return {
    sync,
    bus,
    stats,
    metrics,
    graphql,
    websockets,
    async release() {
      sync.stopPolling();
      metrics?.stop();
      await presence?.stop();
      await audit.stop();
      await graphql.dispose();
      await releaseConnections();
    },
  };
}

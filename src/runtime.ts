// One replica: database, index, HTTP server. Built from a Config; listens; stops cleanly.
import net, { type AddressInfo } from "node:net";
import { createApp } from "./app.ts";
import type { Config } from "./config.ts";
import { dashboardRoutes } from "./dashboard/static.ts";
import { openDatabase } from "./database.ts";
import { createDb } from "./db/client.ts";
import { ReadRouter } from "./db/read-router.ts";
import { startAuditServices } from "./keys/services.ts";
import type { Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { SubscriptionLimits } from "./schema/subscription-limits.ts";
import { WriteGate } from "./schema/write-gate.ts";
import { attachGraphQLWebSocket, createGraphQLHandler } from "./schema/yoga.ts";
import { createDeliveryStats } from "./stats/stats.ts";
import { createBus, redactUrl } from "./sync/bus.ts";
import { ChangeFeed } from "./sync/change-feed.ts";
import { createForecaster } from "./sync/forecasts.ts";
import { IndexSync } from "./sync/index-sync.ts";
import { createPropagation } from "./sync/propagation.ts";
import { joinReplicas, type Presence } from "./sync/replica-presence.ts";
import { mergeLive, ReplicaRegistry } from "./sync/replicas.ts";
import { ServedVersions } from "./sync/served-versions.ts";

export interface Replica {
  port: number;
  stop(): Promise<void>;
}

const RETRY_MAX_MS = 10_000;

export async function startReplica(config: Config, log: Logger): Promise<Replica> {
  const database = await openDatabase(config, log);
  const shutdown = new AbortController();
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
    onApplied: (snapshot, how, seconds) => {
      presence?.announce(snapshot.version);
      metrics?.indexApplied(how, seconds);
    },
  });
  presence = await joinReplicas(config.REPLICA_ID, bus, sync, replicas, served, log);
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
  const audit = await startAuditServices(database.presence, database.db, bus, config, log);
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
    shutdown: shutdown.signal,
    observeOperation: metrics.graphqlOperation,
    stats: stats.store,
    keys: audit.keys,
    afterCommit: createPropagation({
      sync,
      bus,
      replicas,
      served,
      replicaId: config.REPLICA_ID,
      timeoutMs: config.PROPAGATION_TIMEOUT_MS,
      log,
    }),
  });

  const postgresAt = config.DATABASE_URL ? redactUrl(config.DATABASE_URL) : "the embedded database";
  let draining = false;
  let closing = false;
  const server = createApp({
    log,
    closing: () => closing,
    index: sync,
    // Ready once an index is loaded, and still ready (degraded) when Postgres or Redis is down:
    // delivery answers from memory either way.
    readiness: () => {
      if (draining) return { ready: false, detail: { reason: "shutting down" } };
      const postgres = sync.databaseReachable
        ? "up"
        : `down: cannot reach Postgres at ${postgresAt} (${sync.lastError})`;
      const redis = bus.describe();
      if (!sync.snapshot) {
        return {
          ready: false,
          detail: {
            reason: sync.lastError ? `index not loaded: ${sync.lastError}` : "index not loaded yet",
            postgres,
            redis,
          },
        };
      }
      const degraded = !sync.databaseReachable || redis.startsWith("down");
      return {
        ready: true,
        detail: { version: sync.snapshot.version, campaigns: sync.snapshot.campaignCount, degraded, postgres, redis },
      };
    },
    observeDelivery: (status, startedAt, campaignIds) => {
      metrics?.observeDelivery(status, startedAt);
      stats.count(campaignIds);
    },
    routes: {
      ...dashboardRoutes(),
      "/graphql": graphql,
      "/metrics": (req, res) => {
        metrics?.handle(req, res).catch((error: unknown) => {
          log.error({ err: error }, "metrics failed");
          if (!res.headersSent) res.writeHead(500).end();
        });
      },
    },
  });
  const websockets = attachGraphQLWebSocket(server, graphql, config);
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
        const delay = Math.min(RETRY_MAX_MS, 250 * 2 ** attempt);
        log.error({ err: error, retryInMs: delay }, "cannot load the index; retrying");
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  })();

  return {
    port,
    async stop() {
      // 1. Drain: /readyz says 503 so balancers stop sending new clients; everything is still served.
      draining = true;
      await new Promise((r) => setTimeout(r, config.SHUTDOWN_DRAIN_MS));
      // 2. Close: subscriptions end (WebSocket close frame 1001, SSE streams complete), the port closes,
      //    every further response closes its keep-alive connection, in-flight requests finish (bounded),
      //    then the pools are released.
      stopping = true;
      sync.stopPolling();
      shutdown.abort();
      await websockets.close();
      await new Promise<void>((resolve) => {
        // net.Server's close, not http.Server's: the latter also drops idle keep-alive sockets at once,
        // racing clients that are sending on them. Instead each gets one more answer, with
        // Connection: close; sockets still idle a moment later are closed.
        closing = true;
        net.Server.prototype.close.call(server, () => resolve());
        setTimeout(() => server.closeIdleConnections(), 1_000).unref();
        setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS).unref();
      });
      await loaded.catch(() => undefined);
      await presence?.stop();
      await audit.stop();
      await graphql.dispose();
      await stats.stop();
      await bus.close();
      await replicaDb?.$disconnect();
      await database.close();
    },
  };
}

// One replica, start to stop: listen first (health and readiness answer from the first second), then
// open the database (the embedded Postgres: create or open it, migrate, seed a first time), wire the
// services, load the index (retried until it loads). The code behind the database and the services
// (Prisma, GraphQL, Redis clients: seconds of loading on a busy machine) is imported once the port is
// open. Usable in-process: no process.exit, no process handlers; stop() stops everything it started.
// The process policy (signals, fatal errors, exit codes) is src/index.ts's.
import { setMaxListeners } from "node:events";
import type { AddressInfo } from "node:net";
import { createApp, endRaw, type Listener } from "../app.ts";
import { type Config, redactUrl } from "../config.ts";
import { dashboardRoutes } from "../dashboard/static.ts";
import type { Database } from "../db/open.ts";
import type { Logger } from "../logger.ts";
import { loadIndexWithRetry } from "./index-load.ts";
import { preloadPackages } from "./preload.ts";
import { ReplicaReadiness } from "./readiness.ts";
import { stopSequence } from "./stop.ts";
import type { Services } from "./wiring.ts";

export interface Replica {
  port: number;
  /**
   * Resolves once the database is open and the services run (the index may still be loading: /readyz
   * says so); rejects when start-up failed for good (e.g. the embedded database cannot be prepared).
   */
  started: Promise<void>;
  /** The stop sequence (src/runtime/stop.ts); rejects with ShutdownTimeout past its deadline. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Open the port only once the index is loaded, not at once. For a cluster worker restarted while its
   * siblings serve: the port is shared, so listening early would hand it connections it can only
   * answer 503; its siblings answer meanwhile. (A first start listens at once: /readyz says the phase.)
   */
  listenOnceLoaded?: boolean;
}

export async function startReplica(config: Config, log: Logger, options: StartOptions = {}): Promise<Replica> {
  const readiness = new ReplicaReadiness(
    config.DATABASE_URL ? redactUrl(config.DATABASE_URL) : "the embedded database",
  );
  const stopping = new AbortController();
  // Every open subscription listens for it (SUBSCRIPTIONS_MAX of them): no leak warning past ten.
  setMaxListeners(0, stopping.signal);
  let services: Services | undefined;
  let database: Database | undefined;

  const phaseOf = () => String(readiness.check().detail.reason ?? "starting");
  const server = createApp({
    log,
    // The index sync's snapshot (null until loaded: delivery answers 503 meanwhile) and traffic sample.
    index: {
      get snapshot() {
        return services?.sync.snapshot ?? null;
      },
      get traffic() {
        return services?.sync.traffic;
      },
    },
    readiness: () => readiness.check(),
    draining: stopping.signal,
    observeDelivery: (status, startedAt, served, now) => {
      services?.metrics.observeDelivery(status, startedAt);
      services?.stats.count(served, now);
    },
    routes: {
      ...dashboardRoutes(),
      "/graphql": (req, res) => (services ? services.graphql(req, res) : graphqlUnavailable(res, phaseOf())),
      "/metrics": (req, res) => {
        if (!services) return startingJson(res, phaseOf());
        return services.metrics.handle(req, res).catch((error: unknown) => {
          log.error({ err: error }, "metrics failed");
          if (!res.headersSent) res.writeHead(500).end();
        });
      },
    },
    upgrades: {
      "/graphql": (req, socket, head) => {
        if (services) services.websockets.handleUpgrade(req, socket, head);
        else endRaw(socket, 503, `starting: ${phaseOf()}`);
      },
    },
  });
  const listen = async (): Promise<number> => {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    log.info({ port, host: config.HOST, replica: config.REPLICA_ID }, "listening");
    return port;
  };
  let port = options.listenOnceLoaded ? config.PORT : await listen();

  let loading: Promise<void> = Promise.resolve();
  const started = (async () => {
    const onPhase = (phase: string) => readiness.enter(phase);
    await preloadPackages(stopping.signal);
    const [{ openDatabase }, { seedDemoIfEmpty }, { wireServices }] = await Promise.all([
      import("../db/open.ts"),
      import("../seed/first-run.ts"),
      import("./wiring.ts"),
    ]);
    if (stopping.signal.aborted) return;
    try {
      database = await openDatabase(config, log, {
        onPhase,
        afterMigrate: (db) => seedDemoIfEmpty(db, log, onPhase),
        signal: stopping.signal,
      });
    } catch (error) {
      if (stopping.signal.aborted) return; // stopped while starting: not a failure
      throw error;
    }
    if (stopping.signal.aborted) return;
    services = await wireServices(config, log, database, stopping.signal);
    readiness.serve(services.sync, services.bus);
    loading = loadIndexWithRetry(services.sync, {
      pollMs: config.INDEX_POLL_MS,
      log,
      signal: stopping.signal,
      onPhase,
    });
  })();
  started.catch((error: unknown) => readiness.failed(error instanceof Error ? error.message : String(error)));

  const stop = stopSequence({
    server,
    drainMs: config.SHUTDOWN_DRAIN_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    drain() {
      const mustDrain = readiness.loaded;
      readiness.drain();
      // Close frames first (WebSocket clients see 1001, not completed operations), then the abort ends
      // SSE streams, refuses new subscriptions and makes every further answer close its connection.
      services?.websockets
        .close()
        .catch((error: unknown) => log.warn({ err: error }, "WebSocket server did not close cleanly"));
      stopping.abort();
      return mustDrain;
    },
    cut: () => services?.websockets.terminate(),
    async release() {
      await started.catch(() => undefined);
      await loading;
      if (services) await services.release();
      else await database?.close();
    },
  });
  if (options.listenOnceLoaded) {
    await started;
    await loading;
    if (!stopping.signal.aborted) port = await listen();
  }
  return { port, started, stop };
}

/** /graphql before its services exist: what Yoga answers for a database that is down, with the phase. */
function graphqlUnavailable(res: Parameters<Listener>[1], phase: string): void {
  res.req.resume();
  const body = JSON.stringify({
    errors: [
      {
        message: `this replica is starting (${phase}); retry shortly`,
        extensions: { code: "UNAVAILABLE", retryAfterMs: 1_000 },
      },
    ],
  });
  res.writeHead(503, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "Retry-After": "1",
  });
  res.end(body);
}

function startingJson(res: Parameters<Listener>[1], phase: string): void {
  res.req.resume();
  const body = JSON.stringify({ error: `starting: ${phase}` });
  res.writeHead(503, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Retry-After": "1",
  });
  res.end(body);
}

// WORKERS=N: the primary process forks N workers sharing the port (node:cluster); each worker is a
// full replica with its own index, subscription and replica id. The primary restarts a worker that
// dies, relays pub/sub between workers when there is no Redis, and stops them all on SIGTERM/SIGINT.
// Without DATABASE_URL the primary runs the embedded Postgres and the workers connect to it.
import cluster, { type Worker } from "node:cluster";
import type { Config } from "../config.ts";
import type { EmbeddedPostgres } from "../db/embedded.ts";
import { EMBEDDED_POOL_SIZE, prepareEmbeddedPostgres, SERVED_BY_PRIMARY } from "../db/open.ts";
import type { Logger } from "../logger.ts";
import { seedDemoIfEmpty } from "../seed/first-run.ts";
import { isRelayMessage } from "./ipc-pubsub.ts";

const RESTART_DELAY_MS = 500;

export interface Primary {
  /** Stops every worker (each drains like a replica on SIGTERM), then exits with `exitCode`. */
  stop(fields: Record<string, unknown>, exitCode: number): void;
}

export async function runPrimary(config: Config, log: Logger): Promise<Primary> {
  let stopping = false;
  let exitCode = 0;
  const slots = new Map<Worker, number>();
  let embedded: EmbeddedPostgres | undefined;
  if (!config.DATABASE_URL) {
    embedded = await prepareEmbeddedPostgres(config, log, { afterMigrate: (db) => seedDemoIfEmpty(db, log) });
    log.info({ url: embedded.url }, "embedded Postgres serves the workers");
  }
  const databaseEnv = embedded
    ? { DATABASE_URL: embedded.url, DATABASE_POOL_SIZE: String(EMBEDDED_POOL_SIZE), [SERVED_BY_PRIMARY]: "1" }
    : {};
  const exit = async (code: number) => {
    await embedded
      ?.stop()
      .catch((error: unknown) => log.error({ err: error }, "embedded Postgres did not stop cleanly"));
    process.exit(code);
  };

  /** `restart`: its siblings serve meanwhile, so it takes connections only once its index is loaded. */
  const fork = (slot: number, restart = false) => {
    const worker = cluster.fork({
      ...databaseEnv,
      REPLICA_ID: `${config.REPLICA_ID}/w${slot}`,
      BULLSEYE_WORKER: String(slot),
      ...(restart ? { BULLSEYE_WORKER_RESTART: "1" } : {}),
    });
    slots.set(worker, slot);
    // A worker killed an instant ago still looks connected: sending to it fails (EPIPE), and a failed
    // send with no callback is an 'error' event that would bring the primary, and every worker, down.
    // Its exit is handled below, and the worker that replaces it loads the whole index anyway.
    const relayFailed = (error: Error | null) => {
      if (error) log.warn({ err: error, slot }, "could not relay a change to a worker (it is exiting)");
    };
    worker.on("error", relayFailed);
    worker.on("message", (message: unknown) => {
      if (!isRelayMessage(message)) return;
      for (const other of slots.keys()) if (other.isConnected()) other.send(message, undefined, {}, relayFailed);
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const slot = slots.get(worker);
    slots.delete(worker);
    if (stopping) {
      if (slots.size === 0) {
        log.info("all workers stopped");
        void exit(exitCode);
      }
      return;
    }
    log.error({ slot, code, signal }, "worker died; restarting it");
    if (slot !== undefined) setTimeout(() => fork(slot, true), RESTART_DELAY_MS);
  });

  const stop = (fields: Record<string, unknown>, code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    log.info({ ...fields, workers: slots.size }, "stopping workers");
    if (slots.size === 0) void exit(exitCode);
    for (const worker of slots.keys()) worker.process.kill("SIGTERM");
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stop({ signal }, 0));

  log.info({ workers: config.WORKERS }, "starting workers");
  for (let slot = 1; slot <= config.WORKERS; slot++) fork(slot);
  return { stop };
}

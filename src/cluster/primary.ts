// WORKERS=N: the primary process forks N workers sharing the port (node:cluster); each worker is a
// full replica with its own index, subscription and replica id. The primary restarts a worker that
// dies, relays pub/sub between workers when there is no Redis, and stops them all on SIGTERM/SIGINT.
import cluster, { type Worker } from "node:cluster";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { isRelayMessage } from "./ipc-pubsub.ts";

const RESTART_DELAY_MS = 500;

export function runPrimary(config: Config, log: Logger): void {
  let stopping = false;
  const slots = new Map<Worker, number>();

  const fork = (slot: number) => {
    const worker = cluster.fork({ REPLICA_ID: `${config.REPLICA_ID}/w${slot}`, BULLSEYE_WORKER: String(slot) });
    slots.set(worker, slot);
    worker.on("message", (message: unknown) => {
      if (!isRelayMessage(message)) return;
      for (const other of slots.keys()) if (other.isConnected()) other.send(message);
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const slot = slots.get(worker);
    slots.delete(worker);
    if (stopping) {
      if (slots.size === 0) {
        log.info("all workers stopped");
        process.exit(0);
      }
      return;
    }
    log.error({ slot, code, signal }, "worker died; restarting it");
    if (slot !== undefined) setTimeout(() => fork(slot), RESTART_DELAY_MS);
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, workers: slots.size }, "stopping workers");
      if (slots.size === 0) process.exit(0);
      for (const worker of slots.keys()) worker.process.kill("SIGTERM");
    });
  }

  log.info({ workers: config.WORKERS }, "starting workers");
  for (let slot = 1; slot <= config.WORKERS; slot++) fork(slot);
}

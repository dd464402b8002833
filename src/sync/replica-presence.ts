// Wires this replica into the fan-out: refresh the index on change messages and on Redis reconnect,
// announce the served version (heartbeat + an acknowledgement on each apply), and record what the
// other replicas announce.
import type { Logger } from "../logger.ts";
import type { Bus } from "./bus.ts";
import type { IndexSync } from "./index-sync.ts";
import type { ReplicaRegistry } from "./replicas.ts";

export const HEARTBEAT_MS = 500;

export interface Presence {
  /** Call when this replica applied a snapshot: acknowledges the version at once. */
  announce(version: number): void;
  /** The newest version a change message announced (this replica may not have applied it yet). */
  newestAnnounced(): number;
  stop(): void;
}

export async function joinReplicas(
  replicaId: string,
  bus: Bus,
  sync: IndexSync,
  registry: ReplicaRegistry,
  log: Logger,
): Promise<Presence> {
  const refresh = (why: string, target = 0) =>
    sync.refresh(target).catch((error: unknown) => log.warn({ err: error, why }, "index refresh failed"));
  let newestAnnounced = 0;
  await bus.onChange((message) => {
    newestAnnounced = Math.max(newestAnnounced, message.version);
    if (message.version > sync.version) refresh("change message", message.version);
  });
  await bus.onReplica((message) => registry.record(message.id, message.version));
  bus.onReconnect(() => refresh("redis reconnected"));

  const announce = (version: number) => {
    registry.record(replicaId, version);
    bus.publishReplica({ id: replicaId, version });
  };
  const heartbeat = setInterval(() => {
    if (sync.snapshot) announce(sync.snapshot.version);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  return {
    announce,
    newestAnnounced: () => newestAnnounced,
    stop: () => clearInterval(heartbeat),
  };
}

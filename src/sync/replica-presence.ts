// Wires this replica into the fan-out: refresh the index on change messages (or install the change
// carried ahead of them, prepared from its parts meanwhile, and acknowledged once built) and on Redis
// reconnect, announce the served version on the bus (heartbeat + an acknowledgement on each apply) and
// in Postgres (served-versions.ts: on each apply and every second), and record what the others announce.
import type { Logger } from "../logger.ts";
import { type Bus, PREPARED_TOPIC, type PreparedMessage } from "./bus.ts";
import { ChangeAssembler } from "./carried-change.ts";
import type { IndexSync } from "./index-sync.ts";
import type { ReplicaRegistry } from "./replicas.ts";
import type { ServedVersions } from "./served-versions.ts";

export const HEARTBEAT_MS = 500;
/** One small upsert per replica per second keeps this replica live in Postgres. */
export const DATABASE_HEARTBEAT_MS = 1_000;

export interface Presence {
  /** Call when this replica applied a snapshot: acknowledges the version at once. */
  announce(version: number): void;
  /** The newest version a change message announced (this replica may not have applied it yet). */
  newestAnnounced(): number;
  /** Stops the heartbeats and says on the bus and in Postgres that this replica no longer serves. */
  stop(): Promise<void>;
}

export async function joinReplicas(
  replicaId: string,
  bus: Bus,
  sync: IndexSync,
  registry: ReplicaRegistry,
  served: ServedVersions,
  log: Logger,
): Promise<Presence> {
  const refresh = (why: string, target = 0) =>
    sync.refresh(target).catch((error: unknown) => log.warn({ err: error, why }, "index refresh failed"));
  let newestAnnounced = 0;
  const carried = new ChangeAssembler();
  // The replica that writes a change prepares and commits its own directly (propagation.ts).
  bus.subscribe<PreparedMessage>(PREPARED_TOPIC, (message) => {
    if (message.replica === replicaId) return;
    if (message.abandoned) {
      carried.drop(message.token);
      sync.abandonPrepared(message.token);
    } else if (message.carried) {
      const change = carried.add(message.token, message.carried);
      if (change === undefined) return;
      // The writer waits for this before it commits (propagation.ts); a change that cannot be
      // prepared here is acknowledged at once: there is nothing to wait for.
      const acknowledge = () =>
        bus.publish(PREPARED_TOPIC, {
          token: message.token,
          replica: replicaId,
          built: true,
        } satisfies PreparedMessage);
      if (change === null) acknowledge();
      else void sync.prepare(message.token, change).then(acknowledge);
    }
  });
  await bus.onChange((message) => {
    newestAnnounced = Math.max(newestAnnounced, message.version);
    if (message.replica === replicaId && message.prepared) return;
    if (message.version <= sync.version) {
      if (message.prepared) sync.abandonPrepared(message.prepared);
      return;
    }
    if (!message.prepared) return void refresh("change message", message.version);
    sync
      .commitPrepared(message.prepared, message.version)
      .catch((error: unknown) => log.warn({ err: error }, "index refresh failed"));
  });
  await bus.onReplica((message) => {
    if (message.left) registry.remove(message.id);
    else registry.record(message.id, message.version);
  });
  bus.onReconnect(() => refresh("redis reconnected"));

  const announce = (version: number) => {
    registry.record(replicaId, version);
    bus.publishReplica({ id: replicaId, version });
    served.record(version);
  };
  const heartbeat = setInterval(() => {
    if (!sync.snapshot) return;
    registry.record(replicaId, sync.snapshot.version);
    bus.publishReplica({ id: replicaId, version: sync.snapshot.version });
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const databaseHeartbeat = setInterval(() => {
    if (sync.snapshot) served.record(sync.snapshot.version);
  }, DATABASE_HEARTBEAT_MS);
  databaseHeartbeat.unref();
  return {
    announce,
    newestAnnounced: () => newestAnnounced,
    async stop() {
      clearInterval(heartbeat);
      clearInterval(databaseHeartbeat);
      bus.publishReplica({ id: replicaId, version: sync.version, left: true });
      await served.leave();
    },
  };
}

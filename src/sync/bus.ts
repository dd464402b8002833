// The fan-out bus between replicas: Redis pub/sub through graphql-redis-subscriptions, or an in-process
// PubSub when REDIS_URL is unset (one replica). Messages are hints: the change log in Postgres stays the
// truth, so a lost message only delays a replica until its next log poll.
import cluster from "node:cluster";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { PubSub, type PubSubEngine } from "graphql-subscriptions";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { IpcPubSub } from "../cluster/ipc-pubsub.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";

/** Published after a commit: which version, and what it touched (ids are informative only). */
export interface ChangeMessage {
  version: number;
  replica: string;
}

/** Heartbeat and acknowledgement: "replica `id` serves `version`". */
export interface ReplicaMessage {
  id: string;
  version: number;
}

export interface Bus {
  readonly redis: boolean;
  /** Redis connection state for readiness and metrics; always true in-process. */
  connected(): boolean;
  publishChange(message: ChangeMessage): void;
  publishReplica(message: ReplicaMessage): void;
  onChange(handler: (message: ChangeMessage) => void): Promise<void>;
  onReplica(handler: (message: ReplicaMessage) => void): Promise<void>;
  /** Called after Redis comes back: messages may have been missed meanwhile. */
  onReconnect(handler: () => void): void;
  close(): Promise<void>;
}

export function createBus(config: Config, log: Logger): Bus {
  const channel = {
    change: `${config.REDIS_PREFIX}changes`,
    replica: `${config.REDIS_PREFIX}replicas`,
  };
  if (!config.REDIS_URL) {
    if (cluster.isWorker) {
      // Workers of one host without Redis: the cluster primary relays messages between them.
      return engineBus(
        new IpcPubSub(),
        channel,
        false,
        () => true,
        () => undefined,
        async () => undefined,
      );
    }
    log.warn("REDIS_URL is not set: using in-process pub/sub. Single replica only.");
    return engineBus(
      new PubSub(),
      channel,
      false,
      () => true,
      () => undefined,
      async () => undefined,
    );
  }
  const options: RedisOptions = {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    // Reconnect forever, quickly at first: a replica never stops because Redis went away.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  };
  const connect = (role: string) => {
    const client = config.REDIS_CLUSTER
      ? new Cluster([config.REDIS_URL as string], {
          redisOptions: options,
          clusterRetryStrategy: options.retryStrategy,
        })
      : new Redis(config.REDIS_URL as string, options);
    client.on("error", (error: Error) => log.debug({ err: error, role }, "redis error"));
    return client;
  };
  const publisher = connect("publisher");
  // A publish while Redis is down fails at once instead of queueing: the log covers what it missed.
  if (publisher instanceof Redis) publisher.options.enableOfflineQueue = false;
  const subscriber = connect("subscriber");
  const reconnectHandlers: (() => void)[] = [];
  let wasReady = false;
  let lost = false;
  subscriber.on("ready", () => {
    if (wasReady && lost) {
      log.info("redis reconnected");
      for (const handler of reconnectHandlers) handler();
    }
    wasReady = true;
    lost = false;
  });
  subscriber.on("close", () => {
    if (wasReady && !lost) log.warn("redis connection lost; serving from the last index, converging from the log");
    lost = true;
  });
  const pubsub = new RedisPubSub({ publisher, subscriber });
  return engineBus(
    pubsub,
    channel,
    true,
    () => publisher.status === "ready" && subscriber.status === "ready",
    (handler) => reconnectHandlers.push(handler),
    async () => {
      publisher.disconnect();
      subscriber.disconnect();
    },
  );
}

function engineBus(
  engine: PubSubEngine,
  channel: { change: string; replica: string },
  redis: boolean,
  connected: () => boolean,
  onReconnect: (handler: () => void) => void,
  close: () => Promise<void>,
): Bus {
  const publish = (name: string, payload: unknown) => {
    engine.publish(name, payload).catch(() => undefined);
  };
  return {
    redis,
    connected,
    publishChange: (message) => publish(channel.change, message),
    publishReplica: (message) => publish(channel.replica, message),
    onChange: async (handler) => {
      await engine.subscribe(channel.change, handler, {});
    },
    onReplica: async (handler) => {
      await engine.subscribe(channel.replica, handler, {});
    },
    onReconnect,
    close,
  };
}

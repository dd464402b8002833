// The fan-out bus between replicas: Redis pub/sub through graphql-redis-subscriptions, or an in-process
// PubSub when REDIS_URL is unset (one replica). Messages are hints: the change log in Postgres stays the
// truth, so a lost message only delays a replica until its next log poll (a change carried in a message
// is applied only onto the version just before it).
import cluster from "node:cluster";
import { RedisPubSub } from "graphql-redis-subscriptions";
import { PubSub, type PubSubEngine } from "graphql-subscriptions";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { IpcPubSub } from "../cluster/ipc-pubsub.ts";
import { type Config, redactUrl } from "../config.ts";
import type { Logger } from "../logger.ts";
import type { ChangePart } from "./carried-change.ts";

/**
 * Published after a commit: which version, by which replica; `prepared` when the version is the change
 * carried ahead under that token (carried-change.ts).
 */
export interface ChangeMessage {
  version: number;
  replica: string;
  prepared?: string;
}

/** Topic of the parts of changes carried ahead of their commit (`publish`/`subscribe`). */
export const PREPARED_TOPIC = "prepared";

/**
 * A part of a change carried ahead of its commit, word that its transaction failed, or a replica's
 * acknowledgement that it built what the change makes.
 */
export interface PreparedMessage {
  token: string;
  /** Who sends it: the writing replica (parts, abandoned), or one that acknowledges (built). */
  replica: string;
  /** Not `part`, its name before categories were carried: a replica that old ignores it (reads the log). */
  carried?: ChangePart;
  abandoned?: boolean;
  /** `replica` has built the snapshot the change makes, or gave up (a part missing, behind). */
  built?: boolean;
}

/** Heartbeat and acknowledgement: "replica `id` serves `version`"; `left` when it stops serving. */
export interface ReplicaMessage {
  id: string;
  version: number;
  left?: boolean;
}

export interface Bus {
  readonly redis: boolean;
  /** Redis connection state for readiness and metrics; always true in-process. */
  connected(): boolean;
  /** For /readyz: "up", "in-process", or "down: cannot reach Redis at <url without credentials> (<why>)". */
  describe(): string;
  publishChange(message: ChangeMessage): void;
  publishReplica(message: ReplicaMessage): void;
  onChange(handler: (message: ChangeMessage) => void): Promise<void>;
  onReplica(handler: (message: ReplicaMessage) => void): Promise<void>;
  /** Called after Redis comes back: messages may have been missed meanwhile. */
  onReconnect(handler: () => void): void;
  /** Any other topic between replicas (forecast requests and replies…), under the same prefix. */
  publish(topic: string, payload: unknown): void;
  subscribe<T>(topic: string, handler: (message: T) => void): void;
  close(): Promise<void>;
}

export function createBus(config: Config, log: Logger): Bus {
  const channel = {
    prefix: config.REDIS_PREFIX,
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
  const where = redactUrl(config.REDIS_URL);
  const options: RedisOptions = {
    lazyConnect: false,
    // Reconnect forever, quickly at first: a replica never stops because Redis went away, and one
    // started while Redis is unreachable starts anyway and uses it as soon as it answers.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  };
  let lastError: string | undefined;
  const connect = (role: string, extra: RedisOptions) => {
    const redisOptions = { ...options, ...extra };
    const client = config.REDIS_CLUSTER
      ? new Cluster([config.REDIS_URL as string], { redisOptions, clusterRetryStrategy: options.retryStrategy })
      : new Redis(config.REDIS_URL as string, redisOptions);
    client.on("error", (error: Error) => {
      lastError = error.message;
      log.debug({ err: error, role, redis: where }, "redis error");
    });
    return client;
  };
  // A publish while Redis is down fails at once instead of queueing: the log covers what it missed.
  const publisher = connect("publisher", { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // SUBSCRIBE waits (offline queue, no retry limit) until Redis answers, so start-up never waits for
  // it nor fails without it; ioredis re-subscribes by itself after every reconnect.
  const subscriber = connect("subscriber", { maxRetriesPerRequest: null });
  const reconnectHandlers: (() => void)[] = [];
  let wasReady = false;
  let lost = false;
  const downTimer = setTimeout(() => {
    if (!wasReady) {
      log.warn(
        { redis: where, err: lastError },
        `cannot reach Redis at ${where}: serving without fan-out (changes arrive through the change-log poll); retrying`,
      );
    }
  }, 2_000);
  downTimer.unref();
  subscriber.on("ready", () => {
    if (!wasReady) log.info({ redis: where }, "redis connected");
    if (wasReady && lost) {
      log.info({ redis: where }, "redis reconnected");
      for (const handler of reconnectHandlers) handler();
    }
    wasReady = true;
    lost = false;
    lastError = undefined;
  });
  subscriber.on("close", () => {
    if (wasReady && !lost) {
      log.warn(
        { redis: where },
        `redis connection to ${where} lost; serving from the last index, converging from the log`,
      );
    }
    lost = true;
  });
  const connected = () => publisher.status === "ready" && subscriber.status === "ready";
  const pubsub = new RedisPubSub({ publisher, subscriber });
  return engineBus(
    pubsub,
    channel,
    true,
    connected,
    (handler) => reconnectHandlers.push(handler),
    async () => {
      clearTimeout(downTimer);
      publisher.disconnect();
      subscriber.disconnect();
    },
    () => (connected() ? "up" : `down: cannot reach Redis at ${where}${lastError ? ` (${lastError})` : ""}`),
    log,
  );
}

function engineBus(
  engine: PubSubEngine,
  channel: { prefix: string; change: string; replica: string },
  redis: boolean,
  connected: () => boolean,
  onReconnect: (handler: () => void) => void,
  close: () => Promise<void>,
  describe: () => string = () => "in-process",
  log?: Logger,
): Bus {
  const publish = (name: string, payload: unknown) => {
    engine.publish(name, payload).catch(() => undefined);
  };
  const subscribe = <T>(name: string, handler: (message: T) => void) => {
    engine
      .subscribe(name, handler, {})
      .catch((error: unknown) => log?.error({ err: error, channel: name }, "subscribe failed"));
  };
  return {
    redis,
    connected,
    publishChange: (message) => publish(channel.change, message),
    publishReplica: (message) => publish(channel.replica, message),
    describe,
    // Not awaited: with Redis away, the subscription completes once it answers (start-up goes on).
    onChange: async (handler) => {
      subscribe(channel.change, handler);
    },
    onReplica: async (handler) => {
      subscribe(channel.replica, handler);
    },
    onReconnect,
    publish: (topic, payload) => publish(`${channel.prefix}${topic}`, payload),
    subscribe: (topic, handler) => subscribe(`${channel.prefix}${topic}`, handler),
    close,
  };
}

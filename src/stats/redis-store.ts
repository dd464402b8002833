// Delivery stats in Redis: one hash per minute (`<prefix>{stats}:<minute>`, field = campaign id,
// value = deliveries), expiring after the retention. The `{stats}` hash tag keeps every bucket in one
// cluster slot, so a flush is one script call per minute bucket and a read is one script call even with
// REDIS_CLUSTER.
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { RETENTION_SECONDS } from "./minutes.ts";
import type { StatsStore } from "./store.ts";

/**
 * HMGET of every id in every minute bucket, in Redis: one command, so a page of campaigns costs one
 * round trip whatever its size. Returns one array per key (bucket), values in ARGV order.
 */
const READ_SCRIPT = `local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HMGET', key, unpack(ARGV)) end
return out`;

/**
 * HINCRBY of every campaign's count into one bucket, then its expiry: one command per bucket. The
 * counts travel as one JSON array [id, n, id, n, …]: encoding 5k separate commands (or 10k arguments)
 * held the event loop for 10–20 ms per flush.
 */
const ADD_SCRIPT = `local counts = cjson.decode(ARGV[2])
for i = 1, #counts, 2 do redis.call('HINCRBY', KEYS[1], counts[i], counts[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return #counts / 2`;

export function createRedisStatsStore(config: Config, log: Logger): StatsStore {
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    // Fail at once while Redis is away (the flusher keeps the counts and retries) instead of queueing.
    enableOfflineQueue: false,
    // A Redis that stops answering must not hold a flush (or a GraphQL read) forever.
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  };
  const url = config.REDIS_URL as string;
  const redis = config.REDIS_CLUSTER
    ? new Cluster([url], { redisOptions: options, enableOfflineQueue: false })
    : new Redis(url, options);
  redis.on("error", (error: Error) => log.debug({ err: error, role: "stats" }, "redis error"));
  const key = (minute: number) => `${config.REDIS_PREFIX}{stats}:${minute}`;

  return {
    async add(counts) {
      const calls: Promise<unknown>[] = [];
      for (const [minute, byId] of counts) {
        const flat: (string | number)[] = [];
        for (const [id, n] of byId) flat.push(id, n);
        calls.push(redis.eval(ADD_SCRIPT, 1, key(minute), RETENTION_SECONDS, JSON.stringify(flat)));
      }
      await Promise.all(calls);
    },
    async read(ids, newestMinute, minutes) {
      if (ids.length === 0) return [];
      const keys = Array.from({ length: minutes }, (_, i) => key(newestMinute - minutes + 1 + i));
      const rows = (await redis.eval(READ_SCRIPT, keys.length, ...keys, ...ids)) as (string | null)[][];
      return ids.map((_, j) => rows.map((row) => Number(row[j] ?? 0)));
    },
    async close() {
      redis.disconnect();
    },
  };
}

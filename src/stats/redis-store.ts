// Delivery stats in Redis: one hash per minute (`<prefix>{stats}:<minute>`, field = campaign id,
// value = deliveries), expiring after the retention. The `{stats}` hash tag keeps every bucket in one
// cluster slot, so a flush and a read are one script call each, even with REDIS_CLUSTER.
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { createRedisHourTotals } from "./hour-totals.ts";
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
 * HINCRBY of every campaign's count into its minute bucket, then each bucket's expiry: one atomic
 * command per flush, so a failed flush wrote nothing and can be retried whole. The counts travel as one
 * JSON array per bucket ([id, n, id, n, …]): encoding 5k separate commands held the event loop for
 * 10–20 ms per flush.
 */
const ADD_SCRIPT = `local buckets = cjson.decode(ARGV[2])
for k, key in ipairs(KEYS) do
  local counts = buckets[k]
  for i = 1, #counts, 2 do redis.call('HINCRBY', key, counts[i], counts[i + 1]) end
  redis.call('EXPIRE', key, ARGV[1])
end
return #KEYS`;

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
  const hourTotals = createRedisHourTotals(redis, key);

  return {
    async add(counts) {
      const keys: string[] = [];
      const buckets: (string | number)[][] = [];
      for (const [minute, byId] of counts) {
        const flat: (string | number)[] = [];
        for (const [id, n] of byId) flat.push(id, n);
        keys.push(key(minute));
        buckets.push(flat);
      }
      await redis.eval(ADD_SCRIPT, keys.length, ...keys, RETENTION_SECONDS, JSON.stringify(buckets));
    },
    async read(ids, newestMinute, minutes) {
      if (ids.length === 0) return [];
      const keys = Array.from({ length: minutes }, (_, i) => key(newestMinute - minutes + 1 + i));
      const rows = (await redis.eval(READ_SCRIPT, keys.length, ...keys, ...ids)) as (string | null)[][];
      return ids.map((_, j) => rows.map((row) => Number(row[j] ?? 0)));
    },
    hourTotals,
    async close() {
      redis.disconnect();
    },
  };
}

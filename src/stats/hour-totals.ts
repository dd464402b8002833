// Every campaign's deliveries in the last-hour window at once, read from the Redis minute buckets the
// flusher writes (redis-store.ts), for ordering whole catalogs by "served last hour". A read by id
// (StatsStore.read) cannot do this: 50k ids × 61 buckets is a 3M-value reply.
//
// Whole minutes stop changing once flushed (the flusher writes a minute's counts within ~1 s of its end),
// so a settled bucket is read once and kept; only the newest buckets are read again, with one pipelined
// HGETALL per bucket. Counts flushed late (after a Redis outage) reach the totals when a kept bucket is
// read again, at most REREAD_MS later.
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { LAST_HOUR_BUCKETS, minuteOf } from "./minutes.ts";

/** Buckets this close to the current minute (inclusive) are read again on every refresh. */
const UNSETTLED_MINUTES = 2;
/** A kept bucket is read again after this long (late flushes). */
const REREAD_MS = 5 * 60_000;
/** Totals are shared by the requests of this long: stats are flushed every 0.5 s anyway. */
const FRESH_MS = 1_000;

export interface HourTotals {
  /** Deliveries per campaign id over the last-hour window (LAST_HOUR_BUCKETS); ids with none are absent. */
  read(now?: number): Promise<ReadonlyMap<string, number>>;
  close(): void;
}

export interface HourTotalsOptions {
  url: string;
  cluster: boolean;
  /** REDIS_PREFIX: buckets are `<prefix>{stats}:<minute>`, as redis-store.ts writes them. */
  prefix: string;
}

export function createRedisHourTotals({ url, cluster, prefix }: HourTotalsOptions): HourTotals {
  const options: RedisOptions = {
    maxRetriesPerRequest: 1,
    // Created on first use: the first command waits for the connection (bounded by commandTimeout).
    enableOfflineQueue: true,
    commandTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  };
  const redis = cluster ? new Cluster([url], { redisOptions: options }) : new Redis(url, options);
  redis.on("error", () => undefined);
  const key = (minute: number) => `${prefix}{stats}:${minute}`;
  const buckets = new Map<number, { counts: Map<string, number>; readAt: number }>();
  let last: { at: number; totals: Promise<ReadonlyMap<string, number>> } | undefined;

  async function refresh(now: number): Promise<ReadonlyMap<string, number>> {
    const newest = minuteOf(now);
    const oldest = newest - LAST_HOUR_BUCKETS + 1;
    for (const minute of buckets.keys()) if (minute < oldest) buckets.delete(minute);
    const stale: number[] = [];
    for (let minute = oldest; minute <= newest; minute++) {
      const kept = buckets.get(minute);
      if (!kept || minute > newest - UNSETTLED_MINUTES || now - kept.readAt > REREAD_MS) stale.push(minute);
    }
    if (stale.length > 0) {
      const pipeline = redis.pipeline();
      for (const minute of stale) pipeline.hgetall(key(minute));
      const replies = (await pipeline.exec()) ?? [];
      stale.forEach((minute, i) => {
        const [error, hash] = replies[i] ?? [new Error("no reply"), null];
        if (error) throw error;
        const counts = new Map<string, number>();
        for (const [id, n] of Object.entries(hash as Record<string, string>)) counts.set(id, Number(n));
        buckets.set(minute, { counts, readAt: now });
      });
    }
    const totals = new Map<string, number>();
    for (const { counts } of buckets.values()) {
      for (const [id, n] of counts) totals.set(id, (totals.get(id) ?? 0) + n);
    }
    return totals;
  }

  return {
    read(now = Date.now()) {
      if (!last || now - last.at > FRESH_MS) {
        const totals = refresh(now);
        last = { at: now, totals };
        // A failed read is not shared: the next request tries again.
        totals.catch(() => {
          if (last?.totals === totals) last = undefined;
        });
      }
      return last.totals;
    },
    close() {
      redis.disconnect();
    },
  };
}

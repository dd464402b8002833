// Every campaign's deliveries in the last-hour window at once, read from the Redis minute buckets the
// flusher writes (redis-store.ts), for ordering whole catalogs by "served last hour". A read by id
// (StatsStore.read) cannot do this: 50k ids × 61 buckets is a 3M-value reply.
//
// Whole minutes stop changing once flushed (the flusher writes a minute's counts within ~1 s of its end),
// so a settled bucket is read once and added to a running sum, and subtracted when it leaves the window;
// only the newest buckets are read on every refresh, summed in Redis (one script call, one reply).
// Counts flushed late (after a Redis outage) reach the sum when a kept bucket is read again, at most
// REREAD_MS later.
import type { Cluster, Redis } from "ioredis";
import { LAST_HOUR_BUCKETS, minuteOf } from "./minutes.ts";

/** Buckets this close to the current minute (inclusive) are read again on every refresh. */
const UNSETTLED_MINUTES = 2;
/** A kept bucket is read again after this long (late flushes). */
const REREAD_MS = 5 * 60_000;
/** Totals are shared by the requests of this long: stats are flushed every 0.5 s anyway. */
const FRESH_MS = 1_000;

/** HGETALL of every key, summed per field, as [field, sum, field, sum, …]. */
const SUM_SCRIPT = `local sums = {}
for _, key in ipairs(KEYS) do
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do sums[flat[i]] = (sums[flat[i]] or 0) + tonumber(flat[i + 1]) end
end
local out = {}
for id, n in pairs(sums) do out[#out + 1] = id; out[#out + 1] = n end
return out`;

export interface HourCounts {
  /** Deliveries of a campaign over the last-hour window (LAST_HOUR_BUCKETS). */
  get(id: string): number;
}

export type HourTotals = (now?: number) => Promise<HourCounts>;

const toMap = (flat: (string | number)[]): Map<string, number> => {
  const map = new Map<string, number>();
  for (let i = 0; i < flat.length; i += 2) map.set(String(flat[i]), Number(flat[i + 1]));
  return map;
};

/** Hour totals over the store's own connection; `key` names a minute's bucket as the store writes it. */
export function createRedisHourTotals(redis: Redis | Cluster, key: (minute: number) => string): HourTotals {
  /** Settled buckets in the window, and their sum. */
  const settled = new Map<number, { counts: Map<string, number>; readAt: number }>();
  const settledSum = new Map<string, number>();
  let last: { at: number; counts: Promise<HourCounts>; done: boolean } | undefined;

  const addTo = (counts: Map<string, number>, sign: 1 | -1) => {
    for (const [id, n] of counts) {
      const sum = (settledSum.get(id) ?? 0) + sign * n;
      if (sum > 0) settledSum.set(id, sum);
      else settledSum.delete(id);
    }
  };

  async function refresh(now: number): Promise<HourCounts> {
    const newest = minuteOf(now);
    const oldest = newest - LAST_HOUR_BUCKETS + 1;
    const newestSettled = newest - UNSETTLED_MINUTES;
    for (const [minute, bucket] of settled) {
      if (minute >= oldest && minute <= newestSettled) continue;
      addTo(bucket.counts, -1);
      settled.delete(minute);
    }
    const toRead: number[] = [];
    for (let minute = oldest; minute <= newestSettled; minute++) {
      const kept = settled.get(minute);
      if (!kept || now - kept.readAt > REREAD_MS) toRead.push(minute);
    }
    const fresh = Array.from({ length: UNSETTLED_MINUTES + 1 }, (_, i) => key(newestSettled + 1 + i));
    const pipeline = redis.pipeline();
    for (const minute of toRead) pipeline.hgetall(key(minute));
    pipeline.eval(SUM_SCRIPT, fresh.length, ...fresh);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([error]) => error);
    if (failed || replies.length !== toRead.length + 1) throw failed?.[0] ?? new Error("incomplete pipeline reply");
    toRead.forEach((minute, i) => {
      const counts = new Map(
        Object.entries(replies[i]?.[1] as Record<string, string>).map(([id, n]) => [id, Number(n)]),
      );
      const kept = settled.get(minute);
      if (kept) addTo(kept.counts, -1);
      addTo(counts, 1);
      settled.set(minute, { counts, readAt: now });
    });
    const newestCounts = toMap(replies[toRead.length]?.[1] as (string | number)[]);
    return { get: (id) => (settledSum.get(id) ?? 0) + (newestCounts.get(id) ?? 0) };
  }

  return (now = Date.now()) => {
    // One refresh at a time (they update the running sum); requests meanwhile share it.
    if (!last || (last.done && now - last.at > FRESH_MS)) {
      const entry = { at: now, counts: refresh(now), done: false };
      last = entry;
      entry.counts.then(
        () => {
          entry.done = true;
        },
        () => {
          // A failed read is not shared: the next request tries again.
          if (last === entry) last = undefined;
        },
      );
    }
    return last.counts;
  };
}

// Where flushed counts live and are read back from: the interface, and the in-process store used
// when REDIS_URL is unset (one replica). The Redis store is in redis-store.ts.
import type { MinuteCounts } from "./counter.ts";
import type { HourCounts } from "./hour-totals.ts";
import { LAST_HOUR_BUCKETS, minuteOf, RETENTION_MINUTES } from "./minutes.ts";

export interface StatsStore {
  /** Adds the counts to their buckets: one batch (Redis: one pipeline). */
  add(counts: MinuteCounts): Promise<void>;
  /**
   * For each id, the counts of the `minutes` buckets ending with `newestMinute`, oldest first: one
   * batch for all ids (Redis: one command, one round trip).
   */
  read(ids: readonly string[], newestMinute: number, minutes: number): Promise<number[][]>;
  /** Every campaign's deliveries over the last-hour window at once (ordering whole catalogs). */
  hourTotals(now?: number): Promise<HourCounts>;
  close(): Promise<void>;
}

export function createMemoryStatsStore(): StatsStore {
  const buckets: MinuteCounts = new Map();
  return {
    async add(counts) {
      let newest = 0;
      for (const [minute, byId] of counts) {
        newest = Math.max(newest, minute);
        let into = buckets.get(minute);
        if (!into) {
          into = new Map();
          buckets.set(minute, into);
        }
        for (const [id, n] of byId) into.set(id, (into.get(id) ?? 0) + n);
      }
      for (const minute of buckets.keys()) if (minute <= newest - RETENTION_MINUTES) buckets.delete(minute);
    },
    async read(ids, newestMinute, minutes) {
      return ids.map((id) => {
        const series = new Array<number>(minutes);
        for (let i = 0; i < minutes; i++) series[i] = buckets.get(newestMinute - minutes + 1 + i)?.get(id) ?? 0;
        return series;
      });
    },
    async hourTotals(now = Date.now()) {
      const totals = new Map<string, number>();
      const newest = minuteOf(now);
      for (let minute = newest - LAST_HOUR_BUCKETS + 1; minute <= newest; minute++) {
        for (const [id, n] of buckets.get(minute) ?? []) totals.set(id, (totals.get(id) ?? 0) + n);
      }
      return { get: (id) => totals.get(id) ?? 0 };
    },
    async close() {},
  };
}

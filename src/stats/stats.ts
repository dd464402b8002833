// Delivery stats for one replica: the hot-path counter, the flusher, and the store (Redis when
// REDIS_URL is set — every replica adds to the same buckets — else in-process).
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { type CountedAnswer, DeliveryCounter } from "./counter.ts";
import { startFlusher } from "./flusher.ts";
import { createRedisStatsStore } from "./redis-store.ts";
import { createMemoryStatsStore, type StatsStore } from "./store.ts";

/** Flushes at most this far apart: stats lag deliveries by ≤ this (the issue asks ≤ 1 s). */
export const FLUSH_INTERVAL_MS = 500;

export interface DeliveryStats {
  /** Hot path: count one delivery response's served campaigns (see DeliveryCounter#count). */
  count(answer: CountedAnswer, now?: number): void;
  readonly store: StatsStore;
  /** Flushes what is left, then closes the store. */
  stop(): Promise<void>;
}

export function createDeliveryStats(config: Config, log: Logger): DeliveryStats {
  const counter = new DeliveryCounter();
  const store = config.REDIS_URL ? createRedisStatsStore(config, log) : createMemoryStatsStore();
  const flusher = startFlusher(counter, store, log.child({ component: "stats" }), FLUSH_INTERVAL_MS);
  return {
    count: (answer, now) => counter.count(answer, now),
    store,
    async stop() {
      await flusher.stop();
      await store.close();
    },
  };
}

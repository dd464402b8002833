// Moves counts from the hot-path counter to the store in batches, every `intervalMs`. A failed flush
// (Redis down) puts the counts back for the next one: counting never stops, blocks or throws.
import type { Logger } from "../logger.ts";
import type { DeliveryCounter } from "./counter.ts";
import { minuteOf, RETENTION_MINUTES } from "./minutes.ts";
import type { StatsStore } from "./store.ts";

export interface Flusher {
  /** Flushes now (unless a flush is in flight); resolves when done, never rejects. */
  flush(): Promise<void>;
  /** Stops the timer, then one last flush bounded by `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export function startFlusher(counter: DeliveryCounter, store: StatsStore, log: Logger, intervalMs: number): Flusher {
  let inFlight: Promise<void> | undefined;
  let failing = false;
  const flush = (): Promise<void> => {
    inFlight ??= (async () => {
      const counts = await counter.take();
      if (counts.size === 0) return;
      try {
        await store.add(counts);
        if (failing) log.info("delivery stats flushed again");
        failing = false;
      } catch (error) {
        counter.restore(counts);
        counter.prune(minuteOf(Date.now()) - RETENTION_MINUTES);
        if (!failing) log.warn({ err: error }, "cannot flush delivery stats; keeping them for the next flush");
        failing = true;
      }
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();
  return {
    flush,
    async stop(timeoutMs = 1_000) {
      clearInterval(timer);
      await inFlight;
      let deadline: NodeJS.Timeout | undefined;
      await Promise.race([flush(), new Promise((r) => (deadline = setTimeout(r, timeoutMs)))]);
      clearTimeout(deadline);
    },
  };
}

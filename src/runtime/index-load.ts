// Start-up retry: the first index load, tried until it succeeds. A replica started while Postgres is
// unreachable keeps its port open, says why on /readyz, and retries with backoff (250 ms doubling, at
// most 10 s); once loaded, the change-log poll takes over. Stopping cancels a pending retry at once.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../logger.ts";
import type { IndexSync } from "../sync/index-sync.ts";

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 10_000;

export interface IndexLoadOptions {
  pollMs: number;
  log: Logger;
  /** Aborted when the replica stops: no further attempt, no polling started. */
  signal: AbortSignal;
  onPhase?: (phase: string) => void;
}

/** Resolves once the index is loaded and polling, or once `signal` aborted. Never rejects. */
export async function loadIndexWithRetry(sync: IndexSync, options: IndexLoadOptions): Promise<void> {
  const { log, signal } = options;
  for (let attempt = 0; !signal.aborted; attempt++) {
    options.onPhase?.(attempt === 0 ? "loading the index" : `loading the index (attempt ${attempt + 1})`);
    try {
      const snapshot = await sync.refresh();
      if (signal.aborted) return;
      log.info({ version: snapshot.version, campaigns: snapshot.campaignCount }, "index loaded");
      sync.startPolling(options.pollMs);
      return;
    } catch (error) {
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempt);
      log.error({ err: error, retryInMs: delay }, "cannot load the index; retrying");
      await sleep(delay, undefined, { signal }).catch(() => undefined);
    }
  }
}

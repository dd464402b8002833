// The commit hook of GraphQL mutations (CONTRACT §4 "read your write"): resolves to `propagated` once
// this replica's index serves the mutation's version, or false after the timeout. Single-replica for
// now; a cross-replica wait (heartbeats + Redis) replaces this one function.
import type { Logger } from "../logger.ts";
import type { IndexSync } from "./index-sync.ts";

export function createLocalPropagation(sync: IndexSync, timeoutMs: number, log: Logger) {
  return async function afterCommit(version: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const applied = sync.waitFor(version).then(() => true);
      return await Promise.race([applied, timedOut]);
    } catch (error) {
      // Committed already: a failed refresh only means "not propagated yet"; polling will catch up.
      log.warn({ err: error, version }, "index refresh after a mutation failed");
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
}

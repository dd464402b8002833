// The commit hook of GraphQL mutations (CONTRACT §4 "read your write"): announce the new version on the
// bus, apply it to this replica's index, then wait until every live replica reports serving it.
// Resolves to `propagated`: true when all did within the timeout, false otherwise (the change is
// committed either way; late replicas converge from the log).
import type { Logger } from "../logger.ts";
import type { Bus } from "./bus.ts";
import type { IndexSync } from "./index-sync.ts";
import type { ReplicaRegistry } from "./replicas.ts";

export interface PropagationDeps {
  sync: IndexSync;
  bus: Bus;
  replicas: ReplicaRegistry;
  replicaId: string;
  timeoutMs: number;
  log: Logger;
}

export function createPropagation({ sync, bus, replicas, replicaId, timeoutMs, log }: PropagationDeps) {
  return async function afterCommit(version: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    log.debug({ version }, "change committed");
    bus.publishChange({ version, replica: replicaId });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      const applied = sync.waitFor(version).then(() => {
        // This replica's own record is updated by the index's onApplied hook before waitFor resolves.
        return replicas.waitForAll(version, Math.max(0, deadline - Date.now()));
      });
      return await Promise.race([applied, timedOut]);
    } catch (error) {
      log.warn({ err: error, version }, "index refresh after a mutation failed");
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
}

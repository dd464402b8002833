// The commit hook of GraphQL mutations (docs/CONTRACT.md §4 "read your write"): announce the new version
// on the bus (with the change itself when the mutation carries it whole), apply it to this replica's
// index, then wait until every live replica serves it. Resolves to `propagated`: true only when every
// replica live on the bus OR in Postgres serves the version (by either source), false at the timeout or
// when Postgres cannot be read (then nobody can tell which replicas serve what). The change is
// committed either way; late replicas converge from the log.
import type { IndexChange } from "../delivery/types.ts";
import type { Logger } from "../logger.ts";
import type { Bus } from "./bus.ts";
import { splitChange } from "./carried-change.ts";
import type { IndexSync } from "./index-sync.ts";
import { mergeLive, type ReplicaRegistry } from "./replicas.ts";
import type { ServedVersions } from "./served-versions.ts";

/** While some replica is behind, how often Postgres is asked again (bus acknowledgements wake sooner). */
const RECHECK_MS = 100;

export interface PropagationDeps {
  sync: IndexSync;
  bus: Bus;
  replicas: ReplicaRegistry;
  served: ServedVersions;
  replicaId: string;
  timeoutMs: number;
  log: Logger;
}

export function createPropagation({ sync, bus, replicas, served, replicaId, timeoutMs, log }: PropagationDeps) {
  const allServe = (version: number, live: { version: number }[]) => live.every((r) => r.version >= version);

  /** Announces `version`: one message, or the carried change in parts, one event-loop turn each. */
  async function announce(version: number, carried: IndexChange | undefined): Promise<void> {
    const parts = carried ? splitChange(carried.campaigns) : [];
    if (parts.length === 0) return bus.publishChange({ version, replica: replicaId });
    for (const part of parts) {
      bus.publishChange({ version, replica: replicaId, part });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  return async function afterCommit(version: number, carried?: IndexChange): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const remaining = () => deadline - Date.now();
    log.debug({ version }, "change committed");
    let timer: NodeJS.Timeout | undefined;
    try {
      const announced = announce(version, carried);
      // Queued at once, so a log poll meanwhile does not read what is carried; it starts once every
      // part is out, so the other replicas get them without waiting for this one's slices.
      const applying = carried ? sync.applyCarried(carried, announced) : announced;
      applying.catch(() => undefined); // its failure is met below
      await announced;
      const applied = await Promise.race([
        applying.then(() => sync.waitFor(version)).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      if (!applied) return false;
      let askedAt = Date.now();
      for (;;) {
        // Postgres is asked once the bus shows everyone there, or every RECHECK_MS for replicas
        // only Postgres knows about (their Redis is away).
        if (allServe(version, replicas.live()) || Date.now() - askedAt >= RECHECK_MS) {
          askedAt = Date.now();
          const fromDatabase = await served.live();
          if (allServe(version, mergeLive(replicas, fromDatabase))) return true;
        }
        if (remaining() <= 0) return false;
        await replicas.nextUpdate(Math.min(RECHECK_MS, remaining()));
      }
    } catch (error) {
      log.warn({ err: error, version }, "cannot confirm propagation (index refresh or served versions failed)");
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
}

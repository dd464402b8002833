// The commit hook of GraphQL mutations (docs/CONTRACT.md §4 "read your write"): announce the new version
// on the bus (naming the change carried ahead of it, when the mutation prepared one), apply it to this
// replica's index, then wait until every live replica serves it. Resolves to `propagated`: true only
// when every replica live on the bus OR in Postgres serves the version (by either source), false at the
// timeout or when Postgres cannot be read (then nobody can tell which replicas serve what). The change
// is committed either way; late replicas converge from the log.
import { randomUUID } from "node:crypto";
import type { Logger } from "../logger.ts";
import { type Bus, PREPARED_TOPIC, type PreparedMessage } from "./bus.ts";
import { type CarriedChange, splitChange } from "./carried-change.ts";
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

/** A change carried to every replica ahead of its commit (carried-change.ts). */
export interface PreparedChange {
  readonly token: string;
  /** Resolves once every part is on the bus. */
  readonly sent: Promise<void>;
  /**
   * Resolves once this replica has built the snapshot the change makes and every other replica live on
   * the bus has said it did too (or gave up), or after the propagation timeout from the call.
   */
  built(): Promise<void>;
  /** Its transaction failed: the replicas drop it. */
  abandon(): void;
}

export function createPropagation({ sync, bus, replicas, served, replicaId, timeoutMs, log }: PropagationDeps) {
  const allServe = (version: number, live: { version: number }[]) => live.every((r) => r.version >= version);
  /** The replicas that acknowledged building each change this replica carries, and who waits for them. */
  const builds = new Map<string, { acknowledged: Set<string>; wake: () => void }>();
  bus.subscribe<PreparedMessage>(PREPARED_TOPIC, (message) => {
    const waiting = message.built ? builds.get(message.token) : undefined;
    if (!waiting) return;
    waiting.acknowledged.add(message.replica);
    waiting.wake();
  });

  /**
   * Sends what a write is about to leave these campaigns and categories as, in parts, one event-loop turn
   * each, while its transaction runs; this replica builds the snapshot too, and the others acknowledge theirs.
   */
  function prepare(change: CarriedChange): PreparedChange {
    const token = `${replicaId}:${randomUUID()}`;
    const publish = (message: Omit<PreparedMessage, "token" | "replica">) =>
      bus.publish(PREPARED_TOPIC, { token, replica: replicaId, ...message } satisfies PreparedMessage);
    const waiting = { acknowledged: new Set<string>(), wake: () => {} };
    builds.set(token, waiting);
    const builtHere = sync.prepare(token, change);
    const sent = (async () => {
      for (const part of splitChange(change)) {
        if (part) publish({ carried: part });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    })();
    // With the bus away neither the parts nor the acknowledgements travel: nothing to wait for.
    const othersPending = () =>
      bus.connected() && replicas.live().some((r) => r.id !== replicaId && !waiting.acknowledged.has(r.id));
    return {
      token,
      sent,
      async built() {
        let timer: NodeJS.Timeout | undefined;
        let timedOut = false;
        const late = new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            timedOut = true;
            resolve();
          }, timeoutMs);
        });
        try {
          await Promise.race([builtHere, late]);
          while (!timedOut && othersPending()) {
            await Promise.race([late, new Promise<void>((resolve) => (waiting.wake = resolve))]);
          }
        } finally {
          clearTimeout(timer);
          builds.delete(token);
        }
      },
      abandon() {
        builds.delete(token);
        sync.abandonPrepared(token);
        void sent.then(() => publish({ abandoned: true }));
      },
    };
  }

  async function afterCommit(version: number, prepared?: PreparedChange): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const remaining = () => deadline - Date.now();
    log.debug({ version }, "change committed");
    let timer: NodeJS.Timeout | undefined;
    try {
      // The parts went out before the commit message, so every replica holds them when it arrives.
      await prepared?.sent;
      bus.publishChange({ version, replica: replicaId, ...(prepared ? { prepared: prepared.token } : {}) });
      const applying = prepared ? sync.commitPrepared(prepared.token, version) : Promise.resolve();
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
  }

  return { prepare, afterCommit };
}

// Which replicas are live and what version each serves, as heard on the bus: every replica announces
// itself (a heartbeat, and an acknowledgement after each applied version). Postgres holds the same
// facts (served-versions.ts); a mutation waits until both agree (propagation.ts).
import { EventEmitter } from "node:events";

export const LIVE_WINDOW_MS = 5_000;

export interface ReplicaState {
  id: string;
  version: number;
  seenAt: Date;
}

export class ReplicaRegistry {
  private readonly replicas = new Map<string, ReplicaState>();
  private readonly updates = new EventEmitter();

  constructor(private readonly selfId: string) {
    this.updates.setMaxListeners(0);
  }

  record(id: string, version: number, at = new Date()): void {
    const previous = this.replicas.get(id);
    // Messages may arrive out of order: a replica's version never goes back.
    this.replicas.set(id, { id, version: Math.max(version, previous?.version ?? 0), seenAt: at });
    this.updates.emit("update");
  }

  /** A replica that stopped serving (it said so): no longer counted. */
  remove(id: string): void {
    if (id === this.selfId) return;
    this.replicas.delete(id);
    this.updates.emit("update");
  }

  /** The last report of a replica, live or not. */
  get(id: string): ReplicaState | undefined {
    return this.replicas.get(id);
  }

  /** Resolves at the next report of any replica, or after `timeoutMs`. */
  nextUpdate(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.updates.off("update", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.updates.on("update", done);
    });
  }

  /** The highest version any replica has reported. */
  newestVersion(): number {
    let newest = 0;
    for (const state of this.replicas.values()) newest = Math.max(newest, state.version);
    return newest;
  }

  /** Replicas heard from within the live window, this one included. */
  live(now = Date.now()): ReplicaState[] {
    const live: ReplicaState[] = [];
    for (const [id, state] of this.replicas) {
      if (now - state.seenAt.getTime() <= LIVE_WINDOW_MS) live.push(state);
      else if (now - state.seenAt.getTime() > 60 * LIVE_WINDOW_MS && id !== this.selfId) this.replicas.delete(id);
    }
    return live.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

/**
 * Live replicas as the bus and Postgres see them together: live in either source, each at the higher
 * version the two report (both only ever move forward).
 */
export function mergeLive(
  bus: ReplicaRegistry,
  fromDatabase: readonly ReplicaState[],
  now = Date.now(),
): ReplicaState[] {
  const merged = new Map<string, ReplicaState>();
  for (const state of bus.live(now)) merged.set(state.id, state);
  for (const state of fromDatabase) {
    const heard = merged.get(state.id) ?? bus.get(state.id);
    merged.set(state.id, {
      id: state.id,
      version: Math.max(state.version, heard?.version ?? 0),
      seenAt: heard && heard.seenAt > state.seenAt ? heard.seenAt : state.seenAt,
    });
  }
  return [...merged.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

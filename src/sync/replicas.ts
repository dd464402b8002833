// Which replicas are live and what version each serves: every replica announces itself on the bus
// (a heartbeat, and an acknowledgement after each applied version); a mutation waits on this registry.
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

  private allAt(version: number): boolean {
    return this.live().every((replica) => replica.version >= version);
  }

  /** Resolves true once every live replica serves `version`, or false after `timeoutMs`. */
  waitForAll(version: number, timeoutMs: number): Promise<boolean> {
    if (this.allAt(version)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!this.allAt(version)) return;
        done(true);
      };
      const done = (result: boolean) => {
        clearTimeout(timer);
        clearInterval(ageing);
        this.updates.off("update", check);
        resolve(result);
      };
      const timer = setTimeout(() => done(this.allAt(version)), timeoutMs);
      // A replica that stops reporting leaves the live set after the window: re-check as time passes.
      const ageing = setInterval(check, 250);
      this.updates.on("update", check);
    });
  }
}

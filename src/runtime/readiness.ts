// What /readyz says about one replica. It answers from the first second (the port is open before the
// database): 503 with the start-up phase ("creating the embedded Postgres", "applying migrations 2/5",
// "loading the index", or why the index cannot load yet), 200 once an index is loaded — still 200,
// degraded, while Postgres or Redis is down, because delivery answers from memory — and 503 again from
// the moment the replica starts stopping.
import type { Readiness } from "../app.ts";
import type { Bus } from "../sync/bus.ts";
import type { IndexSync } from "../sync/index-sync.ts";

export class ReplicaReadiness {
  private phase = "starting";
  private failure: string | undefined;
  private draining = false;
  private serving: { sync: IndexSync; bus: Bus } | undefined;

  /** `postgresAt`: where Postgres is, without credentials, for the `postgres` detail. */
  constructor(private readonly postgresAt: string) {}

  /** The start-up step now running (shown until the index is loaded). */
  enter(phase: string): void {
    this.phase = phase;
  }

  /** Start-up failed for good: said until the process is gone. */
  failed(why: string): void {
    this.failure = why;
  }

  /** The services run: readiness now follows the index and the connections. */
  serve(sync: IndexSync, bus: Bus): void {
    this.serving = { sync, bus };
  }

  drain(): void {
    this.draining = true;
  }

  /** Whether the replica has an index to answer from (a balancer may be sending it devices). */
  get loaded(): boolean {
    return Boolean(this.serving?.sync.snapshot);
  }

  check(): Readiness {
    if (this.draining) return { ready: false, detail: { reason: "shutting down" } };
    if (this.failure) return { ready: false, detail: { reason: `cannot start: ${this.failure}` } };
    if (!this.serving) return { ready: false, detail: { reason: this.phase } };
    const { sync, bus } = this.serving;
    const postgres = sync.databaseReachable
      ? "up"
      : `down: cannot reach Postgres at ${this.postgresAt} (${sync.lastError})`;
    const redis = bus.describe();
    if (!sync.snapshot) {
      const reason = sync.lastError ? `index not loaded: ${sync.lastError}` : this.phase;
      return { ready: false, detail: { reason, postgres, redis } };
    }
    const degraded = !sync.databaseReachable || redis.startsWith("down");
    return {
      ready: true,
      detail: { version: sync.snapshot.version, campaigns: sync.snapshot.campaignCount, degraded, postgres, redis },
    };
  }
}

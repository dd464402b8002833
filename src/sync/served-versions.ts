// What each replica serves, recorded in Postgres (replica_presence): upserted when this replica applies
// a version and as a heartbeat. Redis carries the same news faster, but a replica cut off from Redis
// (or all of them, during a Redis outage) still shows up here, so a waiting mutation never mistakes
// silence for agreement. Liveness is judged by the database's clock, the same one that wrote seen_at.
import type { Db } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { LIVE_WINDOW_MS, type ReplicaState } from "./replicas.ts";

/** Rows not refreshed for this long belong to replicas that are gone (ids change with every restart). */
const FORGET_AFTER = "1 hour";
const FORGET_EVERY_BEATS = 300;
/** Reads of the live set started this close together are one read. */
const SHARE_READ_MS = 20;

export class ServedVersions {
  private inFlight: Promise<void> | null = null;
  private pending: number | null = null;
  private beats = 0;
  private failing = false;
  private left = false;
  private reading: { at: number; rows: Promise<ReplicaState[]> } | null = null;

  constructor(
    private readonly db: Db,
    private readonly replicaId: string,
    private readonly log: Logger,
  ) {}

  /** Records that this replica serves `version`. Coalesced: at most one write in flight, plus the latest pending. */
  record(version: number): void {
    if (this.left) return;
    this.pending = Math.max(version, this.pending ?? 0);
    if (this.inFlight) return;
    this.inFlight = this.flush().finally(() => {
      this.inFlight = null;
    });
  }

  private async flush(): Promise<void> {
    while (this.pending !== null) {
      const version = this.pending;
      this.pending = null;
      try {
        await this.db.$executeRaw`
          INSERT INTO replica_presence (replica_id, version, seen_at) VALUES (${this.replicaId}, ${version}, now())
          ON CONFLICT (replica_id) DO UPDATE SET version = EXCLUDED.version, seen_at = EXCLUDED.seen_at`;
        if (++this.beats % FORGET_EVERY_BEATS === 0) {
          await this.db.$executeRawUnsafe(
            `DELETE FROM replica_presence WHERE seen_at < now() - interval '${FORGET_AFTER}'`,
          );
        }
        if (this.failing) this.log.info("recording the served version in Postgres again");
        this.failing = false;
      } catch (error) {
        if (!this.failing) this.log.warn({ err: error }, "cannot record the served version in Postgres");
        this.failing = true;
      }
    }
  }

  /**
   * Replicas that reported within the live window, by the database's clock. Rejects when Postgres
   * cannot say. Callers within SHARE_READ_MS of a read share it: many mutations waiting at once cost
   * one query, not one each.
   */
  live(): Promise<ReplicaState[]> {
    const now = performance.now();
    if (this.reading && now - this.reading.at < SHARE_READ_MS) return this.reading.rows;
    const rows = this.read();
    this.reading = { at: now, rows };
    rows.catch(() => {
      if (this.reading?.rows === rows) this.reading = null;
    });
    return rows;
  }

  private async read(): Promise<ReplicaState[]> {
    const rows = await this.db.$queryRaw<{ replica_id: string; version: number; seen_at: Date }[]>`
      SELECT replica_id, version, seen_at FROM replica_presence
      WHERE seen_at > now() - make_interval(secs => ${LIVE_WINDOW_MS / 1000})`;
    return rows.map((row) => ({ id: row.replica_id, version: row.version, seenAt: row.seen_at }));
  }

  /** This replica stops serving: waiting mutations stop counting it at once. */
  async leave(): Promise<void> {
    this.left = true;
    this.pending = null;
    await this.inFlight;
    await this.db.$executeRaw`DELETE FROM replica_presence WHERE replica_id = ${this.replicaId}`.catch(() => undefined);
  }
}

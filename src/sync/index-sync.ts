// Keeps this replica's snapshot in step with the change log: a full build at start, then incremental
// applies of whatever changed after the applied version, of any size. Builds and applies run in time
// slices (delivery/steps.ts) while the current snapshot keeps serving, so neither a 20,000-campaign
// import nor a start-up build of a large catalog holds the event loop. Refreshes run one at a time; a
// caller that asks while one is running shares the next run, so a burst of triggers costs at most two
// reads.
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import { type SnapshotOptions, TargetingSnapshot } from "../delivery/snapshot.ts";
import { TrafficSample } from "../delivery/traffic-sample.ts";
import type { ApplyKind } from "../delivery/types.ts";
import { type ChangesSince, loadChangesSince, loadFullIndexData } from "../store/targeting-store.ts";
import type { CarriedChange } from "./carried-change.ts";

export interface IndexSyncOptions extends SnapshotOptions {
  /** Longest run of index work between two turns of the event loop. */
  sliceMs?: number;
  /** Window length of the traffic sample (TRAFFIC_SAMPLE_WINDOW_MS). */
  trafficWindowMs?: number;
  onApplied?: (snapshot: TargetingSnapshot, how: ApplyKind, seconds: number) => void;
  /**
   * A read replica (DATABASE_REPLICA_URL) to load from. A read that finds it behind the version this
   * replica needs (or behind what it already serves) is retried briefly, then made on the primary.
   */
  replicaDb?: Db;
}

const REPLICA_ATTEMPTS = 4;
const REPLICA_RETRY_MS = 25;
/** A change prepared this long ago whose commit never came is dropped (longer than an import may take). */
const PREPARED_TTL_MS = 150_000;
/** Changes prepared at once (concurrent imports); beyond, the oldest is dropped and will read the log. */
const MAX_PREPARED = 4;
/**
 * For this long after a change is prepared, the log poll waits for its commit message instead: a poll
 * that read the change first would read the whole import back from Postgres. A lost message delays the
 * replica by this much at most.
 */
const PREPARED_POLL_HOLD_MS = 3_000;

/** A change carried ahead of its commit, and the snapshot built from it (once built, while still useful). */
interface Prepared {
  change: CarriedChange;
  readonly since: number;
  built: TargetingSnapshot | null;
  expires: NodeJS.Timeout;
}

export class IndexSync {
  snapshot: TargetingSnapshot | null = null;
  /** Recent device requests, sampled by the delivery handler, for reach forecasts. */
  readonly traffic: TrafficSample;
  /** Whether the last read of the change log succeeded (readiness detail, metrics). */
  databaseReachable = true;
  lastError: string | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Promise<TargetingSnapshot> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly applied = new EventEmitter().setMaxListeners(0);
  /** The newest version known to exist (announced or waited for): a replica read must reach it. */
  private target = 0;
  /** Version 0, empty: what the first build starts from (and the answer caches every snapshot shares). */
  private readonly origin: TargetingSnapshot;
  private readonly prepared = new Map<string, Prepared>();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly options: IndexSyncOptions = {},
  ) {
    this.origin = TargetingSnapshot.empty(options);
    this.traffic = new TrafficSample({ windowMs: options.trafficWindowMs });
  }

  get version(): number {
    return this.snapshot?.version ?? 0;
  }

  /** Brings the snapshot up to the latest committed version (at least `target`, when known). */
  refresh(target = 0): Promise<TargetingSnapshot> {
    this.target = Math.max(this.target, target);
    if (this.queued) return this.queued;
    const run = this.tail.then(async () => {
      this.queued = null;
      try {
        const snapshot = await this.refreshNow();
        this.databaseReachable = true;
        this.lastError = undefined;
        return snapshot;
      } catch (error) {
        this.databaseReachable = false;
        this.lastError =
          error instanceof Error ? (error.message.trim().split("\n").at(-1) ?? error.name) : String(error);
        throw error;
      }
    });
    this.queued = run;
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * Builds, in turn with refreshes, the snapshot a change carried ahead of its commit (carried-change.ts)
   * will make of the current one: nothing serves it until `commitPrepared` names the token. Resolves
   * once that snapshot is built (or the change was dropped or could not be built).
   */
  prepare(token: string, change: CarriedChange): Promise<void> {
    if (this.prepared.has(token)) return Promise.resolve();
    const entry: Prepared = {
      change,
      since: performance.now(),
      built: null,
      expires: setTimeout(() => this.abandonPrepared(token), PREPARED_TTL_MS).unref(),
    };
    this.prepared.set(token, entry);
    if (this.prepared.size > MAX_PREPARED) this.abandonPrepared(this.prepared.keys().next().value as string);
    const run = this.tail.then(async () => {
      const base = this.snapshot;
      if (!base || this.prepared.get(token) !== entry) return;
      const built = await base.applyInSlices({ version: base.version + 1, ...change }, this.options.sliceMs);
      if (this.prepared.get(token) === entry) entry.built = built;
    });
    this.tail = run.catch((error: unknown) => this.log.warn({ err: error }, "preparing a carried change failed"));
    return this.tail.then(() => undefined);
  }

  /** The change prepared as `token` will not commit: what was built for it goes. */
  abandonPrepared(token: string): void {
    const entry = this.prepared.get(token);
    if (!entry) return;
    clearTimeout(entry.expires);
    this.prepared.delete(token);
  }

  /**
   * `version` committed the change prepared as `token`. Onto the version just before it, the snapshot
   * built meanwhile is installed (or the carried change applied now, when another version came first);
   * otherwise (behind, ahead, parts missing) the log is read.
   */
  commitPrepared(token: string, version: number): Promise<TargetingSnapshot> {
    this.target = Math.max(this.target, version);
    const entry = this.prepared.get(token);
    this.abandonPrepared(token);
    if (!entry) return this.refresh(version);
    const started = performance.now();
    const run = this.tail.then(async () => {
      const current = this.snapshot;
      if (current && current.version >= version) return current;
      if (current?.version !== version - 1) return null;
      const next =
        entry.built?.version === version
          ? entry.built
          : await current.applyInSlices({ version, ...entry.change }, this.options.sliceMs);
      return this.install(next, "carried", started, 0);
    });
    this.tail = run.catch(() => undefined);
    return run.then((snapshot) => snapshot ?? this.refresh(version));
  }

  /** Resolves once the applied version is at least `version`. */
  async waitFor(version: number): Promise<TargetingSnapshot> {
    if (this.snapshot && this.snapshot.version >= version) return this.snapshot;
    let snapshot = await this.refresh(version);
    while (snapshot.version < version) snapshot = await this.refresh(version);
    return snapshot;
  }

  /** Resolves when a snapshot newer than `version` is applied, or after `timeoutMs`, whichever first. */
  waitForNewer(version: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.version > version || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.applied.off("applied", onApplied);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const onApplied = () => {
        if (this.version > version) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.applied.on("applied", onApplied);
      signal?.addEventListener("abort", done);
    });
  }

  /** Polls the log so direct SQL edits and missed messages converge without any other trigger. */
  startPolling(intervalMs: number): void {
    this.stopPolling();
    let failing = false;
    this.timer = setInterval(() => {
      if (this.awaitingCommit()) return;
      this.refresh().then(
        () => {
          if (failing) this.log.info({ version: this.version }, "change log reachable again");
          failing = false;
        },
        (error: unknown) => {
          // Once per outage, not once per poll.
          if (!failing) this.log.warn({ err: error }, "cannot read the change log; serving the last index");
          failing = true;
        },
      );
    }, intervalMs);
    this.timer.unref();
  }

  /** Whether a change was prepared recently: its commit message, not the log, should bring it. */
  private awaitingCommit(): boolean {
    const now = performance.now();
    for (const entry of this.prepared.values()) if (now - entry.since < PREPARED_POLL_HOLD_MS) return true;
    return false;
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async readChanges(current: TargetingSnapshot | null): Promise<ChangesSince> {
    const read = async (db: Db): Promise<ChangesSince> =>
      current ? loadChangesSince(db, current.version) : { kind: "full", data: await loadFullIndexData(db) };
    const replica = this.options.replicaDb;
    if (replica) {
      const floor = Math.max(this.target, current?.version ?? 0);
      for (let attempt = 0; attempt < REPLICA_ATTEMPTS; attempt++) {
        const changes = await read(replica).catch((error: unknown) => {
          this.log.debug({ err: error }, "read replica unavailable; reading the primary");
          return null;
        });
        if (!changes) break;
        if (versionOf(changes) >= floor) return changes;
        await new Promise((r) => setTimeout(r, REPLICA_RETRY_MS));
      }
    }
    return read(this.db);
  }

  private async refreshNow(): Promise<TargetingSnapshot> {
    const started = performance.now();
    const current = this.snapshot;
    let next: TargetingSnapshot;
    let how: ApplyKind;
    const changes = await this.readChanges(current);
    const readMs = Math.round(performance.now() - started);
    if (changes.kind === "current") {
      if (current) return current;
      throw new Error("unreachable: no snapshot and nothing to load");
    }
    if (changes.kind === "full") {
      const { data } = changes;
      const { version, campaigns, categories } = data;
      next = await (current ?? this.origin).rebuildInSlices(version, campaigns, categories, this.options.sliceMs);
      how = "full";
    } else if (current) {
      next = await current.applyInSlices(changes.change, this.options.sliceMs);
      how = "delta";
    } else {
      throw new Error("unreachable: a delta needs a snapshot");
    }
    return this.install(next, how, started, readMs);
  }

  private install(next: TargetingSnapshot, how: ApplyKind, started: number, readMs: number): TargetingSnapshot {
    // Another path may have installed a newer snapshot meanwhile; never go back.
    if (this.snapshot && this.snapshot.version >= next.version) return this.snapshot;
    this.snapshot = next;
    // Snapshots built onto an older version can no longer be installed (their changes still can be).
    for (const entry of this.prepared.values())
      if (entry.built && entry.built.version <= next.version) entry.built = null;
    const seconds = (performance.now() - started) / 1000;
    this.options.onApplied?.(next, how, seconds);
    this.applied.emit("applied", next);
    this.log.debug({ version: next.version, how, ms: Math.round(seconds * 1000), readMs }, "index applied");
    if (how !== "full") this.compactAfter(next);
    return next;
  }

  /**
   * Once a change serves, the maps it left with large overlays are folded (snapshot.ts `compacted`), in
   * turn with refreshes: a next change waits for it, and starts from folded maps as it would have had to.
   */
  private compactAfter(snapshot: TargetingSnapshot): void {
    const run = this.tail.then(async () => {
      if (this.snapshot !== snapshot) return;
      const folded = await snapshot.compacted(this.options.sliceMs);
      if (this.snapshot === snapshot) this.snapshot = folded;
    });
    this.tail = run.catch((error: unknown) => this.log.warn({ err: error }, "index compaction failed"));
  }
}

function versionOf(changes: ChangesSince): number {
  if (changes.kind === "full") return changes.data.version;
  if (changes.kind === "delta") return changes.change.version;
  return changes.version;
}

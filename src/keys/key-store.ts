// This replica's copy of the API keys, so authenticating a request is a map lookup, never a database
// round trip. Loaded at start, reloaded whenever api_key_counter moves (a trigger bumps it on every
// change that matters to authentication): the replica that changed a key reloads at once and says so on
// the bus; the others reload on that message, or — with Redis away — when their poll of the counter
// (every POLL_MS) sees it move, so a revoked key stops working everywhere within a second. A key that
// leaves the cache aborts its signal, which ends the subscriptions opened with it. lastUsedAt is
// written in the background, one statement per FLUSH_MS for all keys used meanwhile.
import { setMaxListeners } from "node:events";
import type { Db } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { Bus } from "../sync/bus.ts";

/** Bus topic (under REDIS_PREFIX): "the API keys changed; api_key_counter is at `version`". */
export const KEYS_TOPIC = "keys";

interface KeysMessage {
  version: number;
}

export type KeyRole = "admin" | "viewer";

export interface StoredKey {
  readonly id: string;
  readonly name: string;
  readonly role: KeyRole;
  /** Aborted when the key is revoked or deleted. */
  readonly revoked: AbortSignal;
}

export interface KeyStoreOptions {
  /** How often the counter is read (the bound on revocation without Redis, with the reload). */
  pollMs?: number;
  /** How often lastUsedAt is written for the keys used meanwhile. */
  flushMs?: number;
}

const POLL_MS = 250;
const FLUSH_MS = 5_000;

interface KeyRow {
  version: number;
  id: string | null;
  name: string | null;
  role: "ADMIN" | "VIEWER" | null;
  secret_hash: string | null;
}

export class KeyStore {
  /** Active keys by the hex SHA-256 of their secret. */
  private byDigest = new Map<string, StoredKey>();
  private readonly signals = new Map<string, AbortController>();
  private version = -1;
  private readonly used = new Map<string, Date>();
  private timers: NodeJS.Timeout[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private queued: Promise<void> | null = null;
  private failing = false;
  private stopped = false;
  private readonly pollMs: number;
  private readonly flushMs: number;
  /** Statements this store sent (tests, figures). */
  queries = 0;

  constructor(
    private readonly db: Db,
    private readonly bus: Pick<Bus, "publish" | "subscribe"> | undefined,
    private readonly log: Logger,
    options: KeyStoreOptions = {},
  ) {
    this.pollMs = options.pollMs ?? POLL_MS;
    this.flushMs = options.flushMs ?? FLUSH_MS;
  }

  /** Loads the keys (a database that cannot answer now is retried by the poll) and starts the timers. */
  async start(): Promise<void> {
    this.bus?.subscribe<KeysMessage>(KEYS_TOPIC, (message) => {
      if (message.version !== this.version) this.reload().catch(() => undefined);
    });
    await this.reload().catch(() => undefined);
    this.timers = [setInterval(() => this.poll(), this.pollMs), setInterval(() => this.flush(), this.flushMs)];
    for (const timer of this.timers) timer.unref();
  }

  /** The active key whose secret has this SHA-256 digest; notes the use for lastUsedAt. */
  find(digest: Buffer): StoredKey | null {
    const key = this.byDigest.get(digest.toString("hex"));
    if (!key) return null;
    this.used.set(key.id, new Date());
    return key;
  }

  /** After this replica changed api_key: reload before answering, and tell the other replicas. */
  async changed(): Promise<void> {
    // The write committed: a failed reload is retried by the poll rather than reported as a failed write.
    await this.reload().catch(() => undefined);
    this.bus?.publish(KEYS_TOPIC, { version: this.version } satisfies KeysMessage);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.flush();
  }

  /** Loads once more after any load in progress (which may have read before the caller's commit). */
  private reload(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.tail.then(() => {
      this.queued = null;
      return this.load();
    });
    this.queued = run;
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async poll(): Promise<void> {
    if (this.queued || this.stopped) return;
    try {
      this.queries++;
      const [row] = await this.db.$queryRaw<{ version: number }[]>`SELECT version FROM api_key_counter WHERE id = 1`;
      if (row && row.version !== this.version) await this.reload();
      this.recovered();
    } catch (error) {
      this.failed(error);
    }
  }

  private async load(): Promise<void> {
    try {
      this.queries++;
      // Counter and keys in one statement: the cache is exactly the keys at the version it records.
      const rows = await this.db.$queryRaw<KeyRow[]>`
        SELECT c.version, k.id, k.name, k.role::text AS role, k.secret_hash
        FROM api_key_counter c LEFT JOIN api_key k ON k.revoked_at IS NULL
        WHERE c.id = 1`;
      const next = new Map<string, StoredKey>();
      const active = new Set<string>();
      for (const row of rows) {
        if (row.id === null || row.name === null || row.role === null || row.secret_hash === null) continue;
        active.add(row.id);
        let signal = this.signals.get(row.id);
        if (!signal) {
          signal = new AbortController();
          // Every open subscription of the key listens on it (rule-change-stream.ts) until it ends.
          setMaxListeners(0, signal.signal);
          this.signals.set(row.id, signal);
        }
        const role = row.role === "ADMIN" ? "admin" : "viewer";
        next.set(row.secret_hash, { id: row.id, name: row.name, role, revoked: signal.signal });
      }
      this.byDigest = next;
      this.version = rows[0]?.version ?? 0;
      for (const [id, signal] of this.signals) {
        if (active.has(id)) continue;
        this.signals.delete(id);
        signal.abort();
      }
      this.recovered();
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  private async flush(): Promise<void> {
    if (this.used.size === 0) return;
    const batch = [...this.used].map(([id, at]) => ({ id, at: at.toISOString() }));
    this.used.clear();
    try {
      this.queries++;
      await this.db.$executeRaw`
        UPDATE api_key SET last_used_at = GREATEST(api_key.last_used_at, u.at)
        FROM json_to_recordset(${JSON.stringify(batch)}::json) AS u(id text, at timestamptz)
        WHERE api_key.id = u.id`;
    } catch (error) {
      // Kept for the next flush (unless a newer use replaced it meanwhile).
      for (const { id, at } of batch) if (!this.used.has(id)) this.used.set(id, new Date(at));
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (!this.failing) this.log.warn({ err: error }, "cannot read or write API keys; serving the cached ones");
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) this.log.info("API keys readable again");
    this.failing = false;
  }
}

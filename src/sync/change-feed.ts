// One change-log tail per replica, shared by every ruleChanges subscriber. The tail reads the items of
// the versions this replica's index has applied (one query per index move, none while idle), keeps
// the recent ones in a buffer, and wakes the subscribers; each subscriber walks the buffer with its own
// cursor. A subscriber whose cursor is older than the buffer (an old sinceVersion, or one that fell
// behind) replays from the database in pages until it reaches the buffer. Cursors move by version and
// the log is read only up to versions the index has applied (all committed, versions commit in order),
// so the hand-over from replay to live has neither a gap nor a duplicate. Database work does not grow
// with the number of subscribers: live ones share the tail, replays of the same pages share a query.
import type { Db } from "../db/client.ts";
import type { RuleChangeKind } from "../generated/prisma/enums.ts";
import type { Logger } from "../logger.ts";

export interface FeedItem {
  id: number;
  version: number;
  kind: RuleChangeKind;
  campaignId: string | null;
  categoryId: string | null;
  change: { at: Date; actor: string; reason: string | null };
}

/** What the feed needs of the index: its version, and a wake-up when it moves. */
export interface AppliedVersions {
  readonly version: number;
  waitForNewer(version: number, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

export interface ChangeFeedOptions {
  /** Versions read per query (replay pages and the tail alike). */
  pageVersions?: number;
  /** Items kept in memory for live subscribers; whole versions are kept, oldest dropped first. */
  bufferItems?: number;
}

const RETRY_MS = 1_000;
/** The tail re-checks the index at least this often even if no wake-up came. */
const TAIL_RECHECK_MS = 5_000;

export class ChangeFeed {
  /** Items of versions (floor, last], in (version, id) order. */
  private buffer: FeedItem[] = [];
  private floor = 0;
  private last = 0;
  private subscribers = 0;
  private tail: AbortController | null = null;
  private advance!: Promise<void>;
  private wake!: () => void;
  private counter: Promise<number> | null = null;
  private readonly pageVersions: number;
  private readonly bufferItems: number;
  /** Change-log queries made by this feed (figures, tests). */
  reads = 0;
  /** Reads in flight by range, shared by whoever asks for the same range meanwhile. */
  private readonly reading = new Map<string, Promise<FeedItem[]>>();

  constructor(
    private readonly db: Db,
    private readonly index: AppliedVersions,
    private readonly log: Logger,
    options: ChangeFeedOptions = {},
  ) {
    this.pageVersions = options.pageVersions ?? 200;
    this.bufferItems = options.bufferItems ?? 10_000;
    this.renewAdvance();
  }

  get size(): number {
    return this.subscribers;
  }

  /** The latest committed version (a subscription without sinceVersion starts after it); concurrent callers share one read. */
  currentVersion(): Promise<number> {
    this.counter ??= this.db.changeCounter
      .findUnique({ where: { id: 1 }, select: { version: true } })
      .then((row) => row?.version ?? 0)
      .finally(() => {
        this.counter = null;
      });
    return this.counter;
  }

  /**
   * Every item after `since`, then live ones as this replica applies them, until the iterator is
   * returned or `signal` aborts. `return()` ends it at once, even while it waits.
   */
  stream(since: number, signal?: AbortSignal): AsyncIterableIterator<FeedItem> {
    const abort = new AbortController();
    const stop = () => abort.abort();
    signal?.addEventListener("abort", stop, { once: true });
    abort.signal.addEventListener("abort", () => signal?.removeEventListener("abort", stop), { once: true });
    const source = this.walk(since, abort.signal);
    return {
      next: () => source.next(),
      return: () => {
        abort.abort();
        return source.return(undefined);
      },
      throw: (error?: unknown) => {
        abort.abort();
        return source.throw(error);
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private async *walk(since: number, signal: AbortSignal): AsyncGenerator<FeedItem> {
    const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    this.join();
    try {
      let cursor = since;
      while (!signal.aborted) {
        if (cursor < this.floor) {
          // Older than the buffer: one page from the database, never past what the buffer starts after.
          const upTo = Math.min(cursor + this.pageVersions, this.floor);
          const items = await this.read(cursor, upTo);
          for (const item of items) yield item;
          cursor = upTo;
          continue;
        }
        const items = this.after(cursor);
        if (items.length === 0) {
          await Promise.race([this.advance, aborted]);
          continue;
        }
        for (const item of items) {
          yield item;
          cursor = item.version;
        }
        // The slice is whole versions up to `last` at the time it was taken.
        cursor = Math.max(cursor, items.at(-1)?.version ?? cursor);
      }
    } finally {
      this.leave();
    }
  }

  /** Buffered items with version > cursor (a copy: the buffer may be trimmed while they are yielded). */
  private after(cursor: number): FeedItem[] {
    let lo = 0;
    let hi = this.buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.buffer[mid] as FeedItem).version <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return this.buffer.slice(lo);
  }

  private join(): void {
    if (this.subscribers++ > 0) return;
    // The buffer starts at what the index serves now; older versions are replayed from the database.
    this.floor = this.last = this.index.version;
    this.buffer = [];
    const tail = new AbortController();
    this.tail = tail;
    this.follow(tail.signal).catch((error: unknown) => this.log.error({ err: error }, "change feed stopped"));
  }

  private leave(): void {
    if (--this.subscribers > 0) return;
    this.tail?.abort();
    this.tail = null;
    this.buffer = [];
  }

  private async follow(signal: AbortSignal): Promise<void> {
    let failing = false;
    while (!signal.aborted) {
      await this.index.waitForNewer(this.last, TAIL_RECHECK_MS, signal);
      if (signal.aborted) return;
      const target = this.index.version;
      if (target <= this.last) continue;
      try {
        const upTo = Math.min(target, this.last + this.pageVersions);
        const items = await this.read(this.last, upTo);
        if (signal.aborted) return;
        this.buffer.push(...items);
        this.last = upTo;
        this.trim();
        if (failing) this.log.info("change feed reading the log again");
        failing = false;
        this.renewAdvance();
      } catch (error) {
        if (!failing) this.log.warn({ err: error }, "change feed cannot read the log; retrying");
        failing = true;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  /** Drops the oldest whole versions beyond the item budget (the newest version always stays). */
  private trim(): void {
    if (this.buffer.length <= this.bufferItems) return;
    let cut = this.buffer.length - this.bufferItems;
    const lastVersion = (this.buffer.at(-1) as FeedItem).version;
    // Cut at a version boundary, so the buffer holds whole versions.
    while (
      cut < this.buffer.length &&
      (this.buffer[cut] as FeedItem).version === (this.buffer[cut - 1] as FeedItem).version
    ) {
      cut++;
    }
    if (cut >= this.buffer.length) {
      this.buffer = this.buffer.filter((item) => item.version === lastVersion);
      this.floor = lastVersion - 1;
      return;
    }
    this.floor = (this.buffer[cut - 1] as FeedItem).version;
    this.buffer = this.buffer.slice(cut);
  }

  private renewAdvance(): void {
    const wake = this.wake;
    this.advance = new Promise((resolve) => {
      this.wake = resolve;
    });
    wake?.();
  }

  /**
   * The items of versions (after, upTo]. Reads of the same range at once are one query: subscribers that
   * start together from the same version (a dashboard reopened by many users, clients reconnecting
   * after a restart) replay the same pages, and a query each queued them behind one another.
   */
  private read(after: number, upTo: number): Promise<FeedItem[]> {
    const key = `${after}:${upTo}`;
    let pending = this.reading.get(key);
    if (!pending) {
      this.reads++;
      pending = this.db.changeLogItem
        .findMany({
          where: { version: { gt: after, lte: upTo } },
          orderBy: [{ version: "asc" }, { id: "asc" }],
          include: { change: { select: { at: true, actor: true, reason: true } } },
        })
        .finally(() => this.reading.delete(key));
      this.reading.set(key, pending);
    }
    return pending;
  }
}

// Devices that asked recently → their answer, so a device that asks again costs one Map lookup
// instead of a match. Entries are tagged with the snapshot that computed them and the span in which
// flight windows leave them valid; a stale entry is recomputed and replaced.
//
// Only devices seen before are admitted (seen-filter.ts). An entry is charged its key, its own overhead
// and its answer when that is compact (answers.ts); a large, shared answer is held weakly — it is the
// answer table's to keep, so entries never keep more alive than the budgets account for.
import { type Answer, answerSize } from "./answers.ts";
import { ClockCache } from "./clock-cache.ts";
import { hashString, SeenFilter } from "./seen-filter.ts";

interface Entry {
  used: boolean;
  readonly snapshot: number;
  readonly answer: Answer | WeakRef<Answer>;
  readonly from: number;
  readonly until: number;
  readonly bytes: number;
}

/** Rough bytes an entry holds beyond its key's characters: the Map slot, the entry, the key's header. */
const ENTRY_OVERHEAD = 120;

export class DeviceCache {
  private readonly entries: ClockCache<string, Entry>;
  private readonly seen = new SeenFilter();

  constructor(maxBytes: number) {
    this.entries = new ClockCache(maxBytes, (_key, entry) => entry.bytes);
  }

  get bytes(): number {
    return this.entries.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, snapshot: number, now: number): Answer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.snapshot !== snapshot || now < entry.from || now >= entry.until) return undefined;
    return entry.answer instanceof WeakRef ? entry.answer.deref() : entry.answer;
  }

  /** Whether an answer for `key` would be kept: the device is cached already or was seen before (marks it seen). */
  admits(key: string): boolean {
    return this.entries.has(key) || this.seen.check(hashString(key));
  }

  /** Keeps the answer for an admitted device. */
  set(key: string, snapshot: number, answer: Answer, from: number, until: number): void {
    const shared = answer.encoded !== null;
    // Keys are request texts: one byte per character as V8 stores them (two for the rare non-Latin-1).
    const bytes = key.length + ENTRY_OVERHEAD + (shared ? 0 : answerSize(answer));
    this.entries.set(key, { used: false, snapshot, answer: shared ? new WeakRef(answer) : answer, from, until, bytes });
  }
}

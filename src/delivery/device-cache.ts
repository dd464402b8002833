// Devices that asked recently → their answer, so a device that asks again costs one Map lookup
// instead of a match. Entries are tagged with the snapshot that computed them and the span in which
// flight windows leave them valid; a stale entry is recomputed and replaced.
//
// Only devices seen before are offered a place (seen-filter.ts), and a device that would displace
// another gets it only when it asks more often (clock-cache.ts). An entry is charged its key, its own
// overhead and its answer when that is compact (answers.ts); a large, interned answer is held weakly —
// it is the answer table's to keep, so entries never keep more alive than the budgets account for.
import { type Answer, answerSize, compactAnswerSize } from "./answers.ts";
import { ClockCache } from "./clock-cache.ts";
import { hashString, SeenFilter } from "./seen-filter.ts";

interface Entry {
  used: boolean;
  readonly hash: number;
  readonly snapshot: number;
  readonly answer: Answer | WeakRef<Answer>;
  readonly from: number;
  readonly until: number;
  readonly bytes: number;
}

/**
 * Bytes an entry holds beyond its key's characters and its answer's arrays: the Map's slot and its
 * share of the table, the entry with its flight bounds (heap numbers), the key's header, the stats
 * tally of its compact answer. Measured: the V8 heap after a full collection, 20,000 entries as
 * delivery keeps them (tests/unit/answer-cache.test.ts); the 120 bytes assumed before had a full cache
 * hold ~1.2–1.3× its budget.
 */
const ENTRY_OVERHEAD = 215;
/** The same for an entry that refers to a large, interned answer: the WeakRef, and no tally of its own. */
const SHARED_ENTRY_OVERHEAD = 116;
/** What a typical entry holds (a ~60-character key and a compact answer of a handful of ads). */
const TYPICAL_ENTRY_BYTES = 500;

/** What offer() answers when the device's answer is not to be kept. */
export const NOT_KEPT = -1;

export class DeviceCache {
  private readonly entries: ClockCache<string, Entry>;
  private readonly seen = new SeenFilter();

  constructor(maxBytes: number) {
    this.entries = new ClockCache(maxBytes, (_key, entry) => entry.bytes, TYPICAL_ENTRY_BYTES);
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

  /**
   * After a miss for `key`, whose answer has `ads` ads: the key's hash when its answer is to be kept
   * (the entry is there but stale, or the device was seen before and earns a place), else NOT_KEPT.
   * Counts the ask.
   */
  offer(key: string, ads: number): number {
    const hash = hashString(key);
    if (this.entries.has(key)) return hash;
    if (!this.seen.check(hash)) return NOT_KEPT;
    this.entries.count(hash);
    // Sized as if the answer were compact: an upper bound (a shared answer is held weakly).
    return this.entries.admits(hash, entryBytes(key, compactAnswerSize(ads))) ? hash : NOT_KEPT;
  }

  /** Keeps the answer for a device that offer() accepted, under the hash it returned. */
  set(key: string, hash: number, snapshot: number, answer: Answer, from: number, until: number): void {
    const shared = answer.encoded !== null;
    const bytes = shared ? key.length + SHARED_ENTRY_OVERHEAD : entryBytes(key, answerSize(answer));
    this.entries.set(key, {
      used: false,
      hash,
      snapshot,
      answer: shared ? new WeakRef(answer) : answer,
      from,
      until,
      bytes,
    });
  }
}

/** Keys are request texts: one byte per character as V8 stores them (two for the rare non-Latin-1). */
function entryBytes(key: string, answerBytes: number): number {
  return key.length + ENTRY_OVERHEAD + answerBytes;
}

// A byte-bounded cache with second-chance (CLOCK) eviction on one plain Map, and frequency-based
// admission (frequency-sketch.ts). Maps iterate in insertion order, so the first entry is the next
// eviction candidate. A hit only marks its entry as used and counts it — no Map restructuring on the
// hot path (the LRU this replaced moved an entry on every hit: a delete + set per request). A candidate
// used since it was placed gets a second chance at the young end. A newcomer that would need an
// eviction is kept only when it was asked more often lately than the candidate it would evict: a
// population that fits the budget is never evicted, whatever its order, and one that does not fit
// keeps a stable share of itself cached instead of cycling through the cache without a hit. Values
// carry their own mark and hash: they are this cache's entries, not shared objects.
import { FrequencySketch } from "./frequency-sketch.ts";

export interface Marked {
  used: boolean;
  /** The key's 32-bit hash, for the frequency sketch. */
  readonly hash: number;
}

/** Candidates that may get a second chance in one look for a victim (bounds its cost when nearly all were used). */
const MAX_SECOND_CHANCES = 32;

export class ClockCache<K, V extends Marked> {
  private readonly map = new Map<K, V>();
  private readonly frequency: FrequencySketch;
  private held = 0;

  /** `typicalBytes`: a typical entry's size, to size the frequency sketch for the entries that fit. */
  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (key: K, value: V) => number,
    typicalBytes: number,
  ) {
    this.frequency = new FrequencySketch(Math.min(2 ** 20, (4 * maxBytes) / typicalBytes));
  }

  get size(): number {
    return this.map.size;
  }

  /** Bytes held, by the caller's measure. */
  get bytes(): number {
    return this.held;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** The value, if held; a hit marks it used and counts an ask. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      value.used = true;
      this.frequency.increment(value.hash);
    }
    return value;
  }

  /** Counts an ask for something not held (a miss). */
  count(hash: number): void {
    this.frequency.increment(hash);
  }

  /**
   * Whether a new entry of about `bytes` under `hash` should be kept: it fits beside what is held, or
   * it was asked more often lately than the entry it would evict.
   */
  admits(hash: number, bytes: number): boolean {
    if (bytes > this.maxBytes) return false;
    if (this.held + bytes <= this.maxBytes) return true;
    const victim = this.victim();
    return victim === undefined || this.frequency.estimate(hash) > this.frequency.estimate(victim[1].hash);
  }

  /** Remembers the value, evicting entries not used lately; one larger than the budget is not kept. */
  set(key: K, value: V): void {
    const replaced = this.map.get(key);
    if (replaced !== undefined) {
      this.map.delete(key);
      this.held -= this.sizeOf(key, replaced);
    }
    const bytes = this.sizeOf(key, value);
    if (bytes > this.maxBytes) return;
    value.used = false;
    this.map.set(key, value);
    this.held += bytes;
    while (this.held > this.maxBytes) {
      const [oldestKey, oldest] = this.victim() as [K, V];
      this.map.delete(oldestKey);
      this.held -= this.sizeOf(oldestKey, oldest);
    }
  }

  /** The next entry to evict, first in the Map: used entries in front of it get their second chance. */
  private victim(): [K, V] | undefined {
    let chances = MAX_SECOND_CHANCES;
    for (;;) {
      const first = this.map.entries().next();
      if (first.done) return undefined;
      const [key, value] = first.value;
      if (!value.used || chances-- <= 0) return first.value;
      value.used = false;
      this.map.delete(key);
      this.map.set(key, value);
    }
  }
}

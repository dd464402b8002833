// Devices that asked recently → their answer, so a device that asks again costs one Map lookup
// instead of a match. Entries are tagged with the snapshot that computed them and the span in which
// flight windows leave them valid; a stale entry is recomputed and updated in place.
//
// Only devices seen before are admitted (one bit per device hash, cleared as it fills up): a stream of
// never-seen devices adds no entries, so it costs the match and nothing for the collector to clean up.
import type { Answer } from "./answers.ts";
import { TwoGenerationCache } from "./two-generation-cache.ts";

interface Entry {
  snapshot: number;
  answer: Answer;
  from: number;
  until: number;
}

/** Rough bytes an entry holds beyond its key's characters: the Map slot, the entry, the key header. */
const ENTRY_OVERHEAD = 120;
const SEEN_BITS = 1 << 20;

export class DeviceCache {
  private readonly entries: TwoGenerationCache<string, Entry>;
  private readonly seen = new Int32Array(SEEN_BITS / 32);
  private marked = 0;

  constructor(maxBytes: number) {
    this.entries = new TwoGenerationCache(maxBytes, (key) => key.length * 2 + ENTRY_OVERHEAD);
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
    return entry.answer;
  }

  set(key: string, snapshot: number, answer: Answer, from: number, until: number): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.snapshot = snapshot;
      entry.answer = answer;
      entry.from = from;
      entry.until = until;
      return;
    }
    if (!this.seenBefore(key)) return;
    this.entries.set(key, { snapshot, answer, from, until });
  }

  /** Marks the key's bit; true when it was marked already. */
  private seenBefore(key: string): boolean {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    const bit = (hash >>> 0) % SEEN_BITS;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.seen[word] as number) & mask) return true;
    if (++this.marked > SEEN_BITS / 2) {
      this.seen.fill(0);
      this.marked = 1;
    }
    this.seen[word] = (this.seen[word] as number) | mask;
    return false;
  }
}

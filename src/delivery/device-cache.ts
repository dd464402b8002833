// Devices that asked recently → their answer, so a device that asks again costs one Map lookup
// instead of a match. Entries are tagged with the snapshot that computed them and the span in which
// flight windows leave them valid; a stale entry is recomputed and replaced.
//
// Only devices seen before are admitted (seen-filter.ts). An entry is charged its key, its own
// overhead and — when its answer was built for it rather than shared — that answer's bytes too, so
// the budget bounds what the entries keep alive, not just the entries.
import type { Answer } from "./answers.ts";
import { hashString, SeenFilter } from "./seen-filter.ts";
import { TwoGenerationCache } from "./two-generation-cache.ts";

interface Entry {
  readonly snapshot: number;
  readonly answer: Answer;
  readonly from: number;
  readonly until: number;
  readonly bytes: number;
}

/** Rough bytes an entry holds beyond its key's characters: the Map slot, the entry, the key header. */
const ENTRY_OVERHEAD = 120;

export class DeviceCache {
  private readonly entries: TwoGenerationCache<string, Entry>;
  private readonly seen = new SeenFilter();

  constructor(maxBytes: number) {
    this.entries = new TwoGenerationCache(maxBytes, (_key, entry) => entry.bytes);
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

  /** `answerBytes`: what the answer holds, when it was built for this device (0 when shared). */
  set(key: string, snapshot: number, answer: Answer, from: number, until: number, answerBytes: number): void {
    if (!this.entries.has(key) && !this.seen.check(hashString(key))) return;
    const bytes = key.length * 2 + ENTRY_OVERHEAD + answerBytes;
    this.entries.set(key, { snapshot, answer, from, until, bytes });
  }
}

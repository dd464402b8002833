// "Seen before?" for cache admission: one bit per hash, cleared once half the bits are set. A cache
// that admits only what it has seen before never fills up with things asked once — a stream of
// never-seen devices then costs the match and leaves nothing behind for the collector.
const BITS = 1 << 20;

export class SeenFilter {
  private readonly words = new Int32Array(BITS / 32);
  private marked = 0;

  /** Marks the hash; true when it was marked already. */
  check(hash: number): boolean {
    const bit = (hash >>> 0) % BITS;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.words[word] as number) & mask) return true;
    if (++this.marked > BITS / 2) {
      this.words.fill(0);
      this.marked = 1;
    }
    this.words[word] = (this.words[word] as number) | mask;
    return false;
  }
}

/** FNV-1a over a string's UTF-16 code units. */
export function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return hash;
}

// "Seen before?" for cache admission: two bits per hash (a Bloom filter), cleared once a quarter of the
// bits are set. A cache that admits only what it has seen before never fills up with things asked
// once — a stream of never-seen devices then costs the match and leaves nothing behind for the
// collector. With one bit per hash, cleared at half, up to half of a never-seen stream passed as seen
// (a quarter on average) and filled an empty device cache to its budget; two bits cleared at a quarter
// let at most 1 in 16 pass (~2% on average). Either way ~500,000 new keys fit between two clearings, so
// a device asking again within that many others is recognised.
const BITS = 1 << 22;
const CLEAR_AT = BITS / 4;

export class SeenFilter {
  private readonly words = new Int32Array(BITS / 32);
  private marked = 0;

  /** Marks the hash; true when it was marked already (or, rarely, when two others marked its bits). */
  check(hash: number): boolean {
    const first = hash & (BITS - 1);
    const second = (Math.imul(hash, 0x9e3779b1) >>> 10) & (BITS - 1);
    if (this.isSet(first) && this.isSet(second)) return true;
    if (this.marked > CLEAR_AT) {
      this.words.fill(0);
      this.marked = 0;
    }
    this.set(first);
    this.set(second);
    return false;
  }

  private isSet(bit: number): boolean {
    return ((this.words[bit >>> 5] as number) & (1 << (bit & 31))) !== 0;
  }

  private set(bit: number): void {
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const current = this.words[word] as number;
    if ((current & mask) !== 0) return;
    this.words[word] = current | mask;
    this.marked++;
  }
}

/** FNV-1a over a string's UTF-16 code units. */
export function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193);
  return hash;
}

// How often each key was asked lately, approximately: a count-min sketch of small saturating counters
// over the keys' 32-bit hashes, all halved once enough asks were counted, so old popularity fades.
// A cache admits a newcomer over the entry it would evict only when the newcomer was asked more often
// (TinyLFU). That keeps a cache useful when the population asking is larger than its budget: under
// plain CLOCK or LRU, devices asking in a cycle longer than the cache evict each other before any
// returns, and every request misses; with admission the cache keeps a stable share of them.
const MAX_COUNT = 15;
const PROBES = 4;

export class FrequencySketch {
  private readonly counters: Uint8Array;
  private readonly words: Uint32Array;
  private readonly mask: number;
  private readonly sampleSize: number;
  private counted = 0;

  /** `counters`: rounded up to a power of two (about 4 per entry the cache can hold is plenty). */
  constructor(counters: number) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(64, counters)));
    this.counters = new Uint8Array(size);
    this.words = new Uint32Array(this.counters.buffer);
    this.mask = size - 1;
    this.sampleSize = size * 2;
  }

  increment(hash: number): void {
    const step = spread(hash);
    for (let i = 0; i < PROBES; i++) {
      const at = (hash + i * step) & this.mask;
      if ((this.counters[at] as number) < MAX_COUNT) this.counters[at] = (this.counters[at] as number) + 1;
    }
    if (++this.counted >= this.sampleSize) this.age();
  }

  estimate(hash: number): number {
    const step = spread(hash);
    let min = MAX_COUNT;
    for (let i = 0; i < PROBES; i++) {
      const count = this.counters[(hash + i * step) & this.mask] as number;
      if (count < min) min = count;
    }
    return min;
  }

  /** Halves every counter: four at a time, shifting each byte right and dropping the bit it lost. */
  private age(): void {
    const words = this.words;
    for (let i = 0; i < words.length; i++) words[i] = ((words[i] as number) >>> 1) & 0x7f7f7f7f;
    this.counted = 0;
  }
}

/** An odd second hash for double hashing, from the same 32 bits. */
function spread(hash: number): number {
  const mixed = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  return (mixed ^ (mixed >>> 13)) | 1;
}

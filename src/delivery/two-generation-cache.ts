// A byte-bounded memo in two generations of plain Maps: new entries go to the young one; when it holds
// half the budget it becomes the old one and the previous old one is dropped; a hit in the old one is
// moved back to the young one. Approximates LRU at the cost of a Map get/set, and never holds more than
// about `maxBytes` by the caller's own measure of its entries. (lru-cache was measured for the answer
// cache in round one: its set() made each first request after a change ~2× dearer.)
export class TwoGenerationCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private youngBytes = 0;
  private oldBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (key: K, value: V) => number,
  ) {}

  /** Entries held (an entry in both generations counts twice). */
  get size(): number {
    return this.young.size + this.old.size;
  }

  /** Bytes held, by the caller's measure. */
  get bytes(): number {
    return this.youngBytes + this.oldBytes;
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  has(key: K): boolean {
    return this.young.has(key) || this.old.has(key);
  }

  /** Remembers the value (an entry larger than half the budget is not kept). */
  set(key: K, value: V): void {
    const bytes = this.sizeOf(key, value);
    const replaced = this.young.get(key);
    if (replaced !== undefined) {
      this.young.delete(key);
      this.youngBytes -= this.sizeOf(key, replaced);
    }
    if (bytes > this.maxBytes / 2) return;
    if (this.youngBytes + bytes > this.maxBytes / 2) {
      this.old = this.young;
      this.oldBytes = this.youngBytes;
      this.young = new Map();
      this.youngBytes = 0;
    }
    this.young.set(key, value);
    this.youngBytes += bytes;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngBytes = 0;
    this.oldBytes = 0;
  }
}

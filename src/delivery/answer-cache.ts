// Bounded memo of answers for one snapshot, built for the delivery hot path: two generations of plain
// Maps (hits in the old one are promoted; when the young one is full it becomes the old one and the
// previous old one is dropped). Approximates LRU at the cost of a Map get/set. lru-cache was measured
// here: its set() made the first request for each key after every mutation ~2× dearer, and with one
// mutation per second that was most requests.
export class AnswerCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: string): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  /** A read that does not count as use. */
  peek(key: string): V | undefined {
    return this.young.get(key) ?? this.old.get(key);
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.max / 2) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}

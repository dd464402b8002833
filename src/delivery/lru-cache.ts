// A byte-bounded LRU on one plain Map (Maps iterate in insertion order, so the first entry is the
// least recently placed one). A hit on an entry in the younger half of the order costs one Map.get; an
// older one is moved to the young end (delete + set), so entries in use stay and the whole budget is
// usable — a device population that fits the budget is served from it entirely, even when it is asked
// in a cycle. (Two generations of Maps, tried first, held only about half the budget in that case;
// lru-cache, measured in round one, made each insert ~2× dearer.) Values carry their own placement
// tick: they are this cache's entries, not shared objects.
export interface Placed {
  tick: number;
}

export class LruCache<K, V extends Placed> {
  private readonly map = new Map<K, V>();
  private used = 0;
  private clock = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (key: K, value: V) => number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Bytes held, by the caller's measure. */
  get bytes(): number {
    return this.used;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined && this.clock - value.tick > this.map.size / 2) {
      this.map.delete(key);
      value.tick = ++this.clock;
      this.map.set(key, value);
    }
    return value;
  }

  /** Remembers the value, evicting the least recently used; one larger than the budget is not kept. */
  set(key: K, value: V): void {
    const replaced = this.map.get(key);
    if (replaced !== undefined) {
      this.map.delete(key);
      this.used -= this.sizeOf(key, replaced);
    }
    const bytes = this.sizeOf(key, value);
    if (bytes > this.maxBytes) return;
    value.tick = ++this.clock;
    this.map.set(key, value);
    this.used += bytes;
    while (this.used > this.maxBytes) {
      const oldest = this.map.entries().next().value as [K, V];
      this.map.delete(oldest[0]);
      this.used -= this.sizeOf(oldest[0], oldest[1]);
    }
  }
}

// A string-keyed map for the copy-on-write snapshots: a large shared base plus a small overlay of what
// changed since the base was built. A change copies only the overlay, not a 100k-key map, so applying a
// campaign costs microseconds and leaves little garbage; once the overlay outgrows a fraction of the
// base it is folded into a new base (one full copy per many changes, made in steps so that a caller
// can yield between them). With an empty overlay a read is one Map.get, so steady-state delivery pays
// nothing for it. A change never folds the map it makes: the fold of a bulk change's large overlay is
// the copy of a 100k-key map, ~40% of applying a 2,000-campaign import, and it waits until the change
// serves (snapshot.ts `compacted`, or the next change, which starts from folded maps).
//
// Base and overlay are each SHARDS Maps, a key's shard chosen by a hash of its end. A JS Map grows by
// rehashing every entry into a table twice the size, in one call that cannot be sliced: at 2^19 keys
// ~25 ms, at 2^20 ~50 ms — the app → categories map of a 1M-app catalog held the event loop that long
// while a replica built it at start, rebuilt it after an outage or folded it. A shard rehashes a
// sixteenth of that. An edit copies only the overlay shards it writes to.
import type { Steps } from "./steps.ts";

const DELETED: unique symbol = Symbol("deleted");
type Entry<V> = V | typeof DELETED;

/** Fold the overlay into the base once it holds more keys than this share of the base (or the floor). */
const FOLD_SHARE = 1 / 16;
const FOLD_FLOOR = 1_024;
/** Entries copied between two yields while folding. */
const FOLD_STEP = 1_024;
export const SHARDS = 16;

/** The shard of `key`: a multiplicative hash of its length and last two characters (a few ns). */
export function shardOf(key: string): number {
  const end = key.length;
  return Math.imul((end << 16) ^ (key.charCodeAt(end - 1) << 8) ^ key.charCodeAt(end - 2), 0x9e3779b1) >>> 28;
}

type Shards<T> = readonly ReadonlyMap<string, T>[];

const EMPTY_SHARD: ReadonlyMap<string, never> = new Map<string, never>();
const EMPTY_SHARDS: Shards<never> = Object.freeze(Array.from({ length: SHARDS }, () => EMPTY_SHARD));

const sizeOf = (shards: Shards<unknown>) => shards.reduce((total, shard) => total + shard.size, 0);

function lookup<V>(base: Shards<V>, overlay: Shards<Entry<V>>, key: string): V | undefined {
  const shard = shardOf(key);
  const entry = (overlay[shard] as ReadonlyMap<string, Entry<V>>).get(key);
  if (entry === undefined) return (base[shard] as ReadonlyMap<string, V>).get(key);
  return entry === DELETED ? undefined : entry;
}

export class LayeredMap<V> {
  private constructor(
    private readonly base: Shards<V>,
    private readonly overlay: Shards<Entry<V>>,
    private readonly overlaySize: number,
    readonly size: number,
  ) {}

  static empty<V>(): LayeredMap<V> {
    return new LayeredMap<V>(EMPTY_SHARDS, EMPTY_SHARDS, 0, 0);
  }

  get(key: string): V | undefined {
    if (this.overlaySize === 0) return (this.base[shardOf(key)] as ReadonlyMap<string, V>).get(key);
    return lookup(this.base, this.overlay, key);
  }

  *entries(): IterableIterator<[string, V]> {
    for (let shard = 0; shard < SHARDS; shard++) {
      const overlay = this.overlay[shard] as ReadonlyMap<string, Entry<V>>;
      for (const [key, value] of this.base[shard] as ReadonlyMap<string, V>) {
        if (!overlay.has(key)) yield [key, value];
      }
      for (const [key, entry] of overlay) if (entry !== DELETED) yield [key, entry];
    }
  }

  /** A writable copy; `finish()` gives the new map and leaves this one untouched. */
  edit(): LayeredMapDraft<V> {
    return new LayeredMapDraft(this.base, this.overlay, this.size);
  }

  /** The map `overlay` over `base` makes; over an empty base (a full build) the overlay becomes the base. */
  static of<V>(base: Shards<V>, overlay: Shards<Entry<V>>, size: number): LayeredMap<V> {
    // Over an empty base the overlay holds no deletions.
    if (sizeOf(base) === 0) return new LayeredMap(overlay as Shards<V>, EMPTY_SHARDS, 0, size);
    return new LayeredMap(base, overlay, sizeOf(overlay), size);
  }

  /** Whether the overlay outgrew its share of the base: the next edit should start from `folded()`. */
  get needsFold(): boolean {
    return this.overlaySize > Math.max(FOLD_FLOOR, sizeOf(this.base) * FOLD_SHARE);
  }

  /** The same map with the overlay folded into a new base, in steps; this one when it need not fold. */
  *folded(): Steps<LayeredMap<V>> {
    if (!this.needsFold) return this;
    // Both are immutable, so copying them across yields is safe.
    const folded: Map<string, V>[] = [];
    let copied = 0;
    for (let shard = 0; shard < SHARDS; shard++) {
      const overlay = this.overlay[shard] as ReadonlyMap<string, Entry<V>>;
      const into = new Map<string, V>();
      for (const [key, value] of this.base[shard] as ReadonlyMap<string, V>) {
        if (!overlay.has(key)) into.set(key, value);
        if (++copied % FOLD_STEP === 0) yield;
      }
      for (const [key, entry] of overlay) {
        if (entry !== DELETED) into.set(key, entry);
        if (++copied % FOLD_STEP === 0) yield;
      }
      folded.push(into);
    }
    return new LayeredMap(folded, EMPTY_SHARDS, 0, this.size);
  }
}

export class LayeredMapDraft<V> {
  /** The overlay's shards; those this draft wrote to are its own copies (`owned`). */
  private readonly overlay: Map<string, Entry<V>>[];
  private readonly owned: boolean[] = new Array(SHARDS).fill(false);

  constructor(
    private readonly base: Shards<V>,
    shared: Shards<Entry<V>>,
    public size: number,
  ) {
    this.overlay = shared.slice() as Map<string, Entry<V>>[];
  }

  get(key: string): V | undefined {
    return lookup(this.base, this.overlay, key);
  }

  set(key: string, value: V): void {
    this.replace(key, this.get(key), value);
  }

  delete(key: string): void {
    this.replace(key, this.get(key), undefined);
  }

  /**
   * Sets (or, with undefined, deletes) the key whose current value the caller just read with get():
   * a bulk change reads and rewrites thousands of keys of a 100k-key map, and a second lookup per key
   * was a third of its cost.
   */
  replace(key: string, current: V | undefined, value: V | undefined): void {
    if (value !== undefined) {
      if (current === undefined) this.size++;
      this.own(shardOf(key)).set(key, value);
      return;
    }
    if (current === undefined) return;
    this.size--;
    const shard = shardOf(key);
    const overlay = this.own(shard);
    if ((this.base[shard] as ReadonlyMap<string, V>).has(key)) overlay.set(key, DELETED);
    else overlay.delete(key);
  }

  /** The finished map (not folded: see `LayeredMap.folded`). The draft must not be used afterwards. */
  finish(): LayeredMap<V> {
    return LayeredMap.of(this.base, this.overlay, this.size);
  }

  private own(shard: number): Map<string, Entry<V>> {
    if (!this.owned[shard]) {
      this.overlay[shard] = new Map(this.overlay[shard]);
      this.owned[shard] = true;
    }
    return this.overlay[shard] as Map<string, Entry<V>>;
  }
}

// A string-keyed map for the copy-on-write snapshots: a large shared base plus a small overlay of what
// changed since the base was built. A change copies only the overlay, not a 100k-key map, so applying a
// campaign costs microseconds and leaves little garbage; once the overlay outgrows a fraction of the
// base it is folded into a new base (one full copy per many changes, made in steps so that a caller
// can yield between them). With an empty overlay a read is one Map.get, so steady-state delivery pays
// nothing for it. A change never folds the map it makes: the fold of a bulk change's large overlay is
// the copy of a 100k-key map, ~40% of applying a 2,000-campaign import, and it waits until the change
// serves (snapshot.ts `compacted`, or the next change, which starts from folded maps).
import type { Steps } from "./steps.ts";

const DELETED: unique symbol = Symbol("deleted");
type Entry<V> = V | typeof DELETED;

/** Fold the overlay into the base once it holds more keys than this share of the base (or the floor). */
const FOLD_SHARE = 1 / 16;
const FOLD_FLOOR = 1_024;
/** Entries copied between two yields while folding. */
const FOLD_STEP = 1_024;

function lookup<V>(base: ReadonlyMap<string, V>, overlay: ReadonlyMap<string, Entry<V>>, key: string): V | undefined {
  const entry = overlay.get(key);
  if (entry === undefined) return base.get(key);
  return entry === DELETED ? undefined : entry;
}

export class LayeredMap<V> {
  private constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly overlay: ReadonlyMap<string, Entry<V>>,
    readonly size: number,
  ) {}

  static empty<V>(): LayeredMap<V> {
    return new LayeredMap<V>(new Map(), new Map(), 0);
  }

  get(key: string): V | undefined {
    return this.overlay.size === 0 ? this.base.get(key) : lookup(this.base, this.overlay, key);
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [key, value] of this.base) {
      if (!this.overlay.has(key)) yield [key, value];
    }
    for (const [key, entry] of this.overlay) if (entry !== DELETED) yield [key, entry];
  }

  /** A writable copy; `finish()` gives the new map and leaves this one untouched. */
  edit(): LayeredMapDraft<V> {
    return new LayeredMapDraft(this.base, this.overlay, this.size);
  }

  /** The map `overlay` over `base` makes; over an empty base (a full build) the overlay becomes the base. */
  static of<V>(base: ReadonlyMap<string, V>, overlay: ReadonlyMap<string, Entry<V>>, size: number): LayeredMap<V> {
    // Over an empty base the overlay holds no deletions.
    if (base.size === 0) return new LayeredMap(overlay as ReadonlyMap<string, V>, new Map(), size);
    return new LayeredMap(base, overlay, size);
  }

  /** Whether the overlay outgrew its share of the base: the next edit should start from `folded()`. */
  get needsFold(): boolean {
    return this.overlay.size > Math.max(FOLD_FLOOR, this.base.size * FOLD_SHARE);
  }

  /** The same map with the overlay folded into a new base, in steps; this one when it need not fold. */
  *folded(): Steps<LayeredMap<V>> {
    if (!this.needsFold) return this;
    // Both maps are immutable, so copying them across yields is safe.
    const { base, overlay } = this;
    const folded = new Map<string, V>();
    let copied = 0;
    for (const [key, value] of base) {
      if (!overlay.has(key)) folded.set(key, value);
      if (++copied % FOLD_STEP === 0) yield;
    }
    for (const [key, entry] of overlay) {
      if (entry !== DELETED) folded.set(key, entry);
      if (++copied % FOLD_STEP === 0) yield;
    }
    return new LayeredMap(folded, new Map(), this.size);
  }
}

export class LayeredMapDraft<V> {
  private overlay: Map<string, Entry<V>> | null = null;

  constructor(
    private readonly base: ReadonlyMap<string, V>,
    private readonly shared: ReadonlyMap<string, Entry<V>>,
    public size: number,
  ) {}

  get(key: string): V | undefined {
    return lookup(this.base, this.overlay ?? this.shared, key);
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
      this.own().set(key, value);
      return;
    }
    if (current === undefined) return;
    this.size--;
    const overlay = this.own();
    if (this.base.has(key)) overlay.set(key, DELETED);
    else overlay.delete(key);
  }

  /** The finished map (not folded: see `LayeredMap.folded`). The draft must not be used afterwards. */
  finish(): LayeredMap<V> {
    return LayeredMap.of(this.base, this.overlay ?? this.shared, this.size);
  }

  private own(): Map<string, Entry<V>> {
    this.overlay ??= new Map(this.shared);
    return this.overlay;
  }
}

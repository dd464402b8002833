// A string-keyed map for the work lists a bulk change builds (the posting edits by value, a carried
// change's campaigns by id): SHARDS JS Maps, a key's shard chosen as in layered-map.ts. A JS Map grows
// by rehashing every entry at once, in one call no slice can split: in a 20,000-campaign import the
// app → edit map passed 100,000 keys and one `set` held a replica's event loop 10 ms (2^16 → 2^17
// entries); a shard rehashes a sixteenth of that. Iterates shard by shard: not in insertion order.
import { SHARDS, shardOf } from "./layered-map.ts";

export class ShardedMap<V> implements ReadonlyMap<string, V> {
  private readonly shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map<string, V>());

  get size(): number {
    let size = 0;
    for (const shard of this.shards) size += shard.size;
    return size;
  }

  get(key: string): V | undefined {
    return (this.shards[shardOf(key)] as Map<string, V>).get(key);
  }

  has(key: string): boolean {
    return (this.shards[shardOf(key)] as Map<string, V>).has(key);
  }

  set(key: string, value: V): this {
    (this.shards[shardOf(key)] as Map<string, V>).set(key, value);
    return this;
  }

  delete(key: string): boolean {
    return (this.shards[shardOf(key)] as Map<string, V>).delete(key);
  }

  *entries(): MapIterator<[string, V]> {
    for (const shard of this.shards) yield* shard;
  }

  *keys(): MapIterator<string> {
    for (const shard of this.shards) yield* shard.keys();
  }

  *values(): MapIterator<V> {
    for (const shard of this.shards) yield* shard.values();
  }

  forEach(callback: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const shard of this.shards) for (const [key, value] of shard) callback.call(thisArg, value, key, this);
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}

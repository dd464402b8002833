import { describe, expect, it } from "vitest";
import { ShardedMap } from "../../src/delivery/sharded-map.ts";

describe("ShardedMap", () => {
  it("holds what a Map holds under random sets and deletes", () => {
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed / 2 ** 32;
    };
    const sharded = new ShardedMap<number>();
    const plain = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const key = `app.${Math.floor(random() * 5_000)}${random() < 0.1 ? "" : "x"}`;
      if (random() < 0.3) expect(sharded.delete(key)).toBe(plain.delete(key));
      else {
        sharded.set(key, i);
        plain.set(key, i);
      }
    }
    expect(sharded.size).toBe(plain.size);
    const byKey = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : 1);
    expect([...sharded].sort(byKey)).toEqual([...plain].sort(byKey));
    expect([...sharded.keys()].sort()).toEqual([...plain.keys()].sort());
    expect([...sharded.values()].sort()).toEqual([...plain.values()].sort());
    for (const [key, value] of plain) {
      expect(sharded.get(key)).toBe(value);
      expect(sharded.has(key)).toBe(true);
    }
    expect(sharded.get("absent")).toBeUndefined();
    const seen: string[] = [];
    sharded.forEach((_value, key, map) => {
      expect(map).toBe(sharded);
      seen.push(key);
    });
    expect(seen.length).toBe(plain.size);
  });

  it("spreads keys over its shards (each rehash is a fraction of the map)", () => {
    const map = new ShardedMap<null>();
    for (let i = 0; i < 100_000; i++) map.set(`com.synthetic.app${i}`, null);
    const shards = (map as unknown as { shards: Map<string, null>[] }).shards.map((shard) => shard.size);
    expect(Math.max(...shards)).toBeLessThan(100_000 / 8);
  });
});

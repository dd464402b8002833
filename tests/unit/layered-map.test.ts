// LayeredMap against a plain Map model: random sets and deletes over many versions, each version left
// untouched by later edits, through overlay growth and folds into a new base (folded or not when edited again).
import { describe, expect, it } from "vitest";
import { LayeredMap, shardOf } from "../../src/delivery/layered-map.ts";
import { drain } from "../../src/delivery/steps.ts";

function prng(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return seed / 2 ** 32;
  };
}

describe("LayeredMap", () => {
  it("behaves like a Map at every version, and older versions never change", () => {
    const random = prng(7);
    const keys = Array.from({ length: 3_000 }, (_, i) => `key${i}`);
    const versions: { map: LayeredMap<number>; model: Map<string, number> }[] = [];
    let map = LayeredMap.empty<number>();
    let model = new Map<string, number>();
    for (let version = 0; version < 400; version++) {
      const draft = map.edit();
      model = new Map(model);
      // Mostly small edits, now and then a large one (forces folds).
      const edits = random() < 0.05 ? 1_500 : 1 + Math.floor(random() * 20);
      for (let e = 0; e < edits; e++) {
        const key = keys[Math.floor(random() * keys.length)] as string;
        if (random() < 0.3) {
          draft.delete(key);
          model.delete(key);
        } else {
          draft.set(key, version * 10_000 + e);
          model.set(key, version * 10_000 + e);
        }
        expect(draft.get(key)).toBe(model.get(key));
      }
      expect(draft.size).toBe(model.size);
      map = draft.finish();
      // Usually folded once the change is made (as a replica does), sometimes edited again unfolded.
      if (random() < 0.7) {
        const folded = drain(map.folded());
        expect(folded === map).toBe(!map.needsFold);
        map = folded;
        expect(map.needsFold).toBe(false);
      }
      versions.push({ map, model });
    }
    for (const { map, model } of versions.filter((_, i) => i % 25 === 0 || i === versions.length - 1)) {
      expect(map.size).toBe(model.size);
      for (const key of keys) expect(map.get(key)).toBe(model.get(key));
      expect(new Map(map.entries())).toEqual(model);
    }
  });
});

describe("shardOf", () => {
  // A shard holding far more than its share would rehash that much more at once when it grows.
  const share = (keys: string[]) => {
    const counts = new Array<number>(16).fill(0);
    for (const key of keys) counts[shardOf(key)] = (counts[shardOf(key)] as number) + 1;
    return Math.max(...counts) / (keys.length / 16);
  };

  it("spreads app ids, numbered or named, over the shards (no shard above twice its share)", () => {
    const numbered = Array.from({ length: 200_000 }, (_, i) => `com.big.app${i}`);
    const named = Array.from(
      { length: 50_000 },
      (_, i) =>
        `com.studio${i % 1_000}.${["game", "lite", "pro", "music", "maps"][i % 5]}${String.fromCharCode(97 + (i % 26))}`,
    );
    expect(share(numbered)).toBeLessThan(2);
    expect(share(named)).toBeLessThan(2);
  });

  it("gives every key, however short or wide its characters, a shard in 0–15", () => {
    for (const key of ["", "a", "US", "com.big.app1", "é", "com.example.\u{1F600}"]) {
      expect(shardOf(key)).toBeGreaterThanOrEqual(0);
      expect(shardOf(key)).toBeLessThan(16);
      expect(Number.isInteger(shardOf(key))).toBe(true);
    }
  });
});

// The stats pieces without Redis: hot-path counter, flusher (failure keeps counts), in-process store
// and the request-scoped loader (one read for any number of keys and windows).
import { describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { type CountedAnswer, DeliveryCounter, type MinuteCounts } from "../../src/stats/counter.ts";
import { startFlusher } from "../../src/stats/flusher.ts";
import { createStatsLoader } from "../../src/stats/loader.ts";
import { MINUTE_MS, minuteOf, sumNewest } from "../../src/stats/minutes.ts";
import { createMemoryStatsStore, type StatsStore } from "../../src/stats/store.ts";

const log = createLogger("silent");
/** An answer as delivery hands it to the counter: kept (the same object for every response) or one-off. */
const kept = (ids: string[]): CountedAnswer => ({ campaigns: ids.map((id) => ({ id })), oneOff: false, tally: null });
const oneOff = (ids: string[]): CountedAnswer => ({ campaigns: ids.map((id) => ({ id })), oneOff: true, tally: null });
const plain = (counts: MinuteCounts) =>
  Object.fromEntries([...counts].map(([minute, byId]) => [minute, Object.fromEntries(byId)]));

describe("DeliveryCounter", () => {
  it("counts each served campaign in the bucket of its minute", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    counter.count(kept(["a", "b"]), t);
    counter.count(kept(["a"]), t + 59_999);
    counter.count(kept(["a"]), t + MINUTE_MS);
    counter.count(kept([]), t);
    expect(plain(await counter.take())).toEqual({ 100: { a: 2, b: 1 }, 101: { a: 1 } });
    expect((await counter.take()).size).toBe(0);
  });

  it("counts one-off answers (per id at once) and kept ones (by list) into the same totals, per minute", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    const ab = kept(["a", "b"]);
    counter.count(ab, t);
    counter.count(oneOff(["a", "c"]), t + 1);
    counter.count(ab, t + 2);
    counter.count(oneOff(["a"]), t + MINUTE_MS);
    counter.count(oneOff([]), t);
    expect(plain(await counter.take())).toEqual({ 100: { a: 3, b: 2, c: 1 }, 101: { a: 1 } });
    counter.count(oneOff(["c"]), t + 3);
    expect(plain(await counter.take())).toEqual({ 100: { c: 1 } });
  });

  it("counts one kept answer served across minutes and takes into the right buckets", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    const ab = kept(["a", "b"]);
    counter.count(ab, t);
    counter.count(ab, t + MINUTE_MS);
    counter.count(ab, t + 1); // a late response of the earlier minute
    counter.count(ab, t + MINUTE_MS + 1);
    const taking = counter.take();
    counter.count(ab, t + MINUTE_MS + 2); // while the take runs: the next take's
    expect(plain(await taking)).toEqual({ 100: { a: 2, b: 2 }, 101: { a: 2, b: 2 } });
    expect(plain(await counter.take())).toEqual({ 101: { a: 1, b: 1 } });
    const other = new DeliveryCounter(); // another counter counting the same answer keeps its own tally
    other.count(ab, t);
    counter.count(ab, t);
    other.count(ab, t);
    expect(plain(await other.take())).toEqual({ 100: { a: 2, b: 2 } });
    expect(plain(await counter.take())).toEqual({ 100: { a: 1, b: 1 } });
  });

  it("merges counts put back after a failed flush with the ones counted meanwhile", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    counter.count(kept(["a"]), t);
    const taken = await counter.take();
    counter.count(kept(["a"]), t + 1);
    counter.restore(taken);
    counter.count(kept(["a"]), t + 2);
    expect(plain(await counter.take())).toEqual({ 100: { a: 3 } });
  });

  it("expands in slices, and what is counted while a take runs goes to the next one", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    const lists = Array.from({ length: 2_500 }, (_, i) => [`c${i % 7}`, `d${i % 3}`]);
    for (const list of lists) counter.count(kept(list), t);
    const taking = counter.take(100); // 25 slices
    counter.count(kept(["late"]), t);
    const taken = plain(await taking);
    expect(taken[100]).toEqual({
      ...Object.fromEntries(
        Array.from({ length: 7 }, (_, i) => [`c${i}`, lists.filter((l) => l[0] === `c${i}`).length]),
      ),
      ...Object.fromEntries(
        Array.from({ length: 3 }, (_, i) => [`d${i}`, lists.filter((l) => l[1] === `d${i}`).length]),
      ),
    });
    expect(plain(await counter.take())).toEqual({ 100: { late: 1 } });
  });
});

describe("DeliveryCounter cells", () => {
  it("counts by id after the cells it resolved were swept, beside new answers naming the same ids", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    const ab = kept(["a", "b"]);
    counter.count(ab, t);
    expect(plain(await counter.take())).toEqual({ 100: { a: 1, b: 1 } });
    // Enough takes without `a` or `b` that their cells leave the lookup (ab's tally still holds them).
    for (let i = 0; i < 240; i++) {
      counter.count(kept(["z"]), t);
      await counter.take();
    }
    counter.count(ab, t + 1);
    counter.count(ab, t + 2);
    counter.count(kept(["a"]), t + 3); // resolves a new cell for `a`
    expect(plain(await counter.take())).toEqual({ 100: { a: 3, b: 2 } });
  });

  it("runs takes one at a time: each returns what was counted before it began", async () => {
    const counter = new DeliveryCounter();
    const t = 100 * MINUTE_MS;
    const lists = Array.from({ length: 300 }, (_, i) => kept([`c${i % 5}`, "all"]));
    for (const answer of lists) counter.count(answer, t);
    const first = counter.take(10); // 30 slices
    for (const answer of lists.slice(0, 100)) counter.count(answer, t);
    const second = counter.take(10);
    const [a, b] = await Promise.all([first, second]);
    expect(plain(a)).toEqual({ 100: { all: 300, c0: 60, c1: 60, c2: 60, c3: 60, c4: 60 } });
    expect(plain(b)).toEqual({ 100: { all: 100, c0: 20, c1: 20, c2: 20, c3: 20, c4: 20 } });
  });
});

describe("flusher", () => {
  it("keeps counting while the store fails and writes everything on the next flush that works", async () => {
    const memory = createMemoryStatsStore();
    let down = true;
    const store: StatsStore = {
      ...memory,
      add: (counts) => (down ? Promise.reject(new Error("redis down")) : memory.add(counts)),
    };
    const counter = new DeliveryCounter();
    const flusher = startFlusher(counter, store, log, 60_000);
    counter.count(kept(["a"]));
    await flusher.flush();
    counter.count(kept(["a", "b"]));
    await flusher.flush();
    down = false;
    await flusher.flush();
    await flusher.stop();
    const [a, b] = await memory.read(["a", "b"], minuteOf(Date.now()), 2);
    expect(sumNewest(a!, 2)).toBe(2);
    expect(sumNewest(b!, 2)).toBe(1);
  });
});

describe("stats loader", () => {
  it("reads all keys of a request in one store call, over the widest window", async () => {
    const store = createMemoryStatsStore();
    const now = 500 * MINUTE_MS + 10;
    await store.add(
      new Map([
        [498, new Map([["a", 1]])],
        [
          500,
          new Map([
            ["a", 2],
            ["b", 5],
          ]),
        ],
      ]),
    );
    const read = vi.spyOn(store, "read");
    const loader = createStatsLoader(store, () => now);
    const [a3, b2, a61] = await Promise.all([
      loader.load({ campaignId: "a", minutes: 3 }),
      loader.load({ campaignId: "b", minutes: 2 }),
      loader.load({ campaignId: "a", minutes: 61 }),
    ]);
    expect(read).toHaveBeenCalledTimes(1);
    expect(read).toHaveBeenCalledWith(["a", "b"], 500, 61);
    expect(a3).toEqual([1, 0, 2]);
    expect(b2).toEqual([0, 5]);
    expect(a61).toHaveLength(61);
    expect(sumNewest(a61, 61)).toBe(3);
  });
});

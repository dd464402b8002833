// One `process.nextTick` object kept alive for the process's life, so that the object shape every
// tick object gets never dies. V8's memory reducer runs up to three memory-reducing collections once a
// replica has been quiet for ~8 s, and those keep no shape that no live object has, whatever
// `--retain-maps-for-n-gc` says (v8-flags.ts). Between bursts of traffic no tick object is alive; the
// next burst then builds the shape anew, and the inline cache in `nextTick`'s object literal, having
// seen several, goes megamorphic for good: every `nextTick` (several per request) defines its fields
// through the runtime. Measured: replicas that had run such collections served 5–8% fewer requests per
// second; with one tick object kept, none fell into that state (README, "Benchmarks", eighth session).
// `node --no-memory-reducer` would also close it, but the reducer's compaction keeps bulk imports'
// collections short.
import { createHook } from "node:async_hooks";

let kept: object | undefined;

/** The object the next `process.nextTick` makes, caught by an init hook enabled for that one call. */
export function captureTickObject(): object | undefined {
  let tick: object | undefined;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource: object) {
      if (type === "TickObject") tick ??= resource;
    },
  });
  hook.enable();
  process.nextTick(() => {});
  hook.disable();
  return tick;
}

/** Keeps one tick object for the process's life and returns it. */
export function keepTickObjectShape(): object | undefined {
  kept ??= captureTickObject();
  return kept;
}

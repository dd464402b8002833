// V8 settings for a long-running server, applied at boot (src/index.ts) before anything serves. The
// young generation's size is not here: V8 fixes it when it creates the heap, so it is a start flag
// (`--max-semi-space-size=4` in package.json's start script and the Dockerfile; README, "Memory").
import v8 from "node:v8";

/**
 * Full collections an object shape (a V8 map) that optimized code relies on survives without any
 * object having it; V8's default is 2. Some shapes exist only while a request does: Node's
 * `process.nextTick` objects, the steps through which `new ServerResponse()` grows. When full
 * collections run between bursts of traffic, those shapes die; the next requests build new ones, and
 * the inline caches in Node's own http and stream code that saw both go megamorphic for the rest of
 * the process's life (every `nextTick` then defines its object's fields through the runtime).
 * Measured on bare `node:http` and on Bullseye alike: 10–20% fewer requests per second after such
 * bursts; with the shapes kept, no such loss (README, "Benchmarks"). V8's memory-reducing
 * collections retain no shapes whatever this says: tick-shape.ts covers those for `nextTick`.
 */
const RETAIN_MAPS_FOR_N_GC = 1_000;

export function applyV8Flags(): void {
  v8.setFlagsFromString(`--retain-maps-for-n-gc=${RETAIN_MAPS_FOR_N_GC}`);
}

// V8 settings for a long-running server: what can be set at boot (src/index.ts, before anything
// serves), and the flags that only take effect on node's command line (NODE_FLAGS: `npm start`, the
// Dockerfile, the benches and the tests start the server with them).
import v8 from "node:v8";

/**
 * Full collections an object shape (a V8 map) that optimized code relies on survives without any
 * object having it; V8's default is 2. Some shapes exist only while a request does: Node's
 * `process.nextTick` objects, the steps through which `new ServerResponse()` grows. When full
 * collections run between bursts of traffic, those shapes die; the next requests build new ones, and
 * the inline caches in Node's own http and stream code that saw both go megamorphic for the rest of
 * the process's life (every `nextTick` then defines its object's fields through the runtime).
 * Measured on bare `node:http` and on Bullseye alike: 10–20% fewer requests per second after such
 * bursts; with the shapes kept, no such loss (README, "Benchmarks").
 */
const RETAIN_MAPS_FOR_N_GC = 1_000;

/**
 * `--no-memory-reducer`: V8's memory reducer runs up to three memory-reducing full collections when a
 * process goes quiet (~8 s after a collection, or 100 s at the latest), and those collections retain
 * no shapes whatever `--retain-maps-for-n-gc` says — the same megamorphic state as above, reached by
 * any replica that idles between bursts (measured: replicas that had run one went to 1,000 slow-path
 * samples of ~30,000; with the flag, no memory-reducing collection and no slow path over minutes of
 * bursts and idle gaps). It can only be set on the command line: set later, V8 has built its reducer.
 * The cost: an idle replica keeps the heap it grew under load until its next ordinary collection.
 */
export const NODE_FLAGS = ["--no-memory-reducer"] as const;

export function applyV8Flags(): void {
  v8.setFlagsFromString(`--retain-maps-for-n-gc=${RETAIN_MAPS_FOR_N_GC}`);
}

/** The NODE_FLAGS this process was started without (a plain `node dist/src/index.js`). */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}

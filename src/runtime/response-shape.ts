// One `ServerResponse` (with its `IncomingMessage`) built at boot and kept for the process's life, so
// that the shapes Node's HTTP objects take while they are constructed never die. Without it, replicas
// started as `npm run bench` starts them sometimes built every response in dictionary mode from their
// start-up on, for good — each response then defines its ~40 fields through the runtime, and such a
// replica served ~25% fewer requests per second than its twin. Measured (README, "Benchmarks",
// sixteenth session): 1 replica in 12 (0 in 12 with the kept response); with the inspector attached
// from the start, 8 in 26 without it and 0 in 26 with it. Probably: start-up's collections run while
// no response is alive (between readiness probes) and clear those shapes, and the next response
// rebuilds them by a path that leaves them in dictionary mode.
import { IncomingMessage, ServerResponse } from "node:http";

let kept: ServerResponse | undefined;

/** Builds the kept response once (its request is kept through `res.req`) and returns it. */
export function keepResponseShape(): ServerResponse {
  kept ??= new ServerResponse(new IncomingMessage(null as never));
  return kept;
}

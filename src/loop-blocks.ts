// The longest event-loop block: how long the loop was held, less the time its thread sat runnable
// waiting for a CPU. nodejs_eventloop_lag counts both, so on a machine with more busy processes than
// cores (three replicas, Postgres and a load generator on 2 cores) it reports the scheduler's delays
// as stalls of the replica's own code. Linux reports the thread's wait in /proc/…/schedstat (second
// field, ns); where that file is missing, the block is the lag.
import { closeSync, openSync, readSync } from "node:fs";

export const LOOP_SAMPLE_MS = 10;

/** Nanoseconds the main thread has waited on a run queue so far; undefined off Linux. */
function runQueueWait(): { read(): number; close(): void } | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/self/task/${process.pid}/schedstat`, "r");
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(96);
  const read = () => {
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    return Number(buffer.toString("latin1", 0, length).split(" ")[1]);
  };
  const close = () => closeSync(fd);
  if (!Number.isFinite(read())) {
    close();
    return undefined;
  }
  return { read, close };
}

export interface LoopBlocks {
  /** The longest block (ms) since the last call, and its lag (ms) beside it; both reset. */
  take(): { blockMs: number; lagMs: number };
  /** Ends the sampling timer and closes the file. */
  stop(): void;
}

/** Samples the loop every `sampleMs` (a timer that never holds the process open) until stopped. */
export function monitorLoopBlocks(sampleMs = LOOP_SAMPLE_MS): LoopBlocks {
  const waited = runQueueWait();
  let last = performance.now();
  let lastWait = waited?.read() ?? 0;
  let maxBlock = 0;
  let maxLag = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const wait = waited?.read() ?? 0;
    const lag = Math.max(0, now - last - sampleMs);
    const block = Math.max(0, lag - (wait - lastWait) / 1e6);
    if (block > maxBlock) maxBlock = block;
    if (lag > maxLag) maxLag = lag;
    last = now;
    lastWait = wait;
  }, sampleMs);
  timer.unref();
  return {
    take() {
      const taken = { blockMs: maxBlock, lagMs: maxLag };
      maxBlock = 0;
      maxLag = 0;
      return taken;
    },
    stop() {
      clearInterval(timer);
      waited?.close();
    },
  };
}

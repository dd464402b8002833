// The event-loop block monitor behind bullseye_eventloop_block_max_seconds: a loop held by this
// process's own work is reported; an idle loop is not.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { LOOP_SAMPLE_MS, monitorLoopBlocks } from "../../src/loop-blocks.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Milliseconds this thread has run on a CPU (Linux: /proc/thread-self/schedstat); elsewhere the
 * process's CPU time, which also counts the collector's helper threads.
 */
function threadCpuMs(): number {
  try {
    return Number(readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[0]) / 1e6;
  } catch {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  }
}

/** Holds the loop until this thread has run `ms` on a CPU: as long a block however busy the machine is. */
function holdLoop(ms: number): void {
  const start = threadCpuMs();
  while (threadCpuMs() - start < ms);
}

describe("event-loop blocks", () => {
  it("reports 60 ms of synchronous work, then nothing once the loop runs freely again", async () => {
    const blocks = monitorLoopBlocks();
    await tick(3 * LOOP_SAMPLE_MS);
    blocks.take();
    holdLoop(60);
    await tick(3 * LOOP_SAMPLE_MS);
    const held = blocks.take();
    // Waiting for a CPU meanwhile (a busy machine) lengthens the lag, not the block.
    expect(held.blockMs).toBeGreaterThanOrEqual(45);
    expect(held.lagMs).toBeGreaterThanOrEqual(held.blockMs);

    await tick(10 * LOOP_SAMPLE_MS);
    expect(blocks.take().blockMs).toBeLessThan(20);
    blocks.stop();
  });
});

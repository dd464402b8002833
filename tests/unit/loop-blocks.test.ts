// The event-loop block monitor behind bullseye_eventloop_block_max_seconds: a loop held by this
// process's own work is reported; an idle loop is not.
import { describe, expect, it } from "vitest";
import { LOOP_SAMPLE_MS, monitorLoopBlocks } from "../../src/loop-blocks.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Holds the loop until this process has used `ms` of CPU: as long a block however busy the machine is. */
function holdLoop(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
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

// The order files start in: the longest first, whatever their project, so that the workers
// finish together instead of one running a 40 s browser file alone at the end (a clean clone has no
// vitest cache to learn durations from). With --sequence.shuffle the order is random (seeded), so
// the suite is also run in orders nobody chose.
import { shuffle } from "@vitest/utils/helpers";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Seconds a file took, hooks included, in a whole run (2 cores, four at a time): only the order matters. */
const SECONDS: Record<string, number> = {
  "tests/integration/dashboard-insights.test.ts": 46,
  "tests/integration/cluster-embedded.test.ts": 34,
  "tests/integration/replica-in-process.test.ts": 33,
  "tests/integration/dashboard-screens.test.ts": 31,
  "tests/integration/dashboard.test.ts": 30,
  "tests/integration/cluster.test.ts": 26,
  "tests/integration/propagation-honest.test.ts": 23,
  "tests/integration/fuzz.test.ts": 20,
  "tests/integration/propagation.test.ts": 18,
  "tests/integration/dashboard-history-keys.test.ts": 16,
  "tests/integration/subscriptions.test.ts": 14,
  "tests/integration/truncate.test.ts": 12,
  "tests/integration/shutdown.test.ts": 12,
  "tests/integration/topology.test.ts": 11,
  "tests/integration/subscription-fanout.test.ts": 8,
  "tests/integration/write-contention.test.ts": 7,
};

/** Files that drive Chromium: two at once already keep both cores busy; four take twice as long. */
const BROWSER = /^tests\/integration\/dashboard[^/]*\.test\.ts$/;

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { sequence, root } = this.ctx.config;
    // vitest's own seeded shuffle (what its RandomSequencer does): a failing order replays with its seed.
    if (sequence.shuffle) return shuffle([...files], sequence.seed);
    const name = (file: TestSpecification) => file.moduleId.slice(root.length + 1);
    const seconds = (file: TestSpecification) => SECONDS[name(file)] ?? 0;
    // Stable: files of equal weight keep vitest's order (its cache's durations when it has them).
    const byVitest = await super.sort(files);
    const longestFirst = byVitest
      .map((file, i) => ({ file, i }))
      .sort((a, b) => seconds(b.file) - seconds(a.file) || a.i - b.i)
      .map(({ file }) => file);
    // A browser file, then another file, and so on: about two browsers at a time, all started early.
    const browser = longestFirst.filter((file) => BROWSER.test(name(file)));
    const others = longestFirst.filter((file) => !BROWSER.test(name(file)));
    const order: TestSpecification[] = [];
    while (browser.length > 0 || others.length > 0) {
      const next = browser.shift();
      if (next) order.push(next);
      order.push(...others.splice(0, 1));
    }
    return order;
  }
}

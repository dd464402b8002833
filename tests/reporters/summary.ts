// After vitest's own report: one line per project (passed, failed, skipped, time) and the ten slowest
// tests, so a slow test is seen the day it lands.
import type { Reporter, TestCase, TestModule } from "vitest/node";

const SLOWEST = 10;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const projects = new Map<string, { passed: number; failed: number; skipped: number; ms: number }>();
    const tests: { test: TestCase; ms: number }[] = [];
    for (const module of testModules) {
      const name = module.project.name || "tests";
      const totals = projects.get(name) ?? { passed: 0, failed: 0, skipped: 0, ms: 0 };
      totals.ms += module.diagnostic().duration;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") totals.passed++;
        else if (state === "failed") totals.failed++;
        else totals.skipped++;
        tests.push({ test, ms: test.diagnostic()?.duration ?? 0 });
      }
      projects.set(name, totals);
    }
    const lines = ["", "Projects (time: the sum of their files' durations):"];
    for (const [name, t] of projects) {
      lines.push(
        `  ${name.padEnd(12)} ${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ""} · ${(t.ms / 1000).toFixed(1)} s`,
      );
    }
    lines.push(`Slowest ${SLOWEST} tests:`);
    for (const { test, ms } of tests.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST)) {
      lines.push(`  ${(ms / 1000).toFixed(2).padStart(6)} s  ${test.module.relativeModuleId} > ${test.fullName}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  }
}

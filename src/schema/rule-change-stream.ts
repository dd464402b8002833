// The ruleChanges subscription's source. The change log is read, never the bus: each round reads the
// items after the last version delivered, so the replay → live hand-over can have neither a gap nor a
// duplicate, and a replica that lost Redis still streams (its index follows the log by polling).
import type { Context } from "./context.ts";

const VERSIONS_PER_READ = 200;
/** Upper bound on how stale a stream can be if no index update wakes it. */
const IDLE_RECHECK_MS = 1_000;

export async function* streamRuleChanges(ctx: Context, sinceVersion: number | null) {
  const abort = new AbortController();
  let last = sinceVersion ?? (await ctx.db.changeCounter.findUnique({ where: { id: 1 } }))?.version ?? 0;
  try {
    for (;;) {
      const items = await ctx.db.changeLogItem.findMany({
        where: { version: { gt: last, lte: last + VERSIONS_PER_READ } },
        orderBy: [{ version: "asc" }, { id: "asc" }],
        include: { change: { select: { at: true } } },
      });
      for (const item of items) yield item;
      const newest = items.at(-1)?.version;
      if (newest !== undefined) {
        last = newest;
        continue;
      }
      // Nothing after `last`: wait until this replica's index moves past it (a change was applied).
      await ctx.sync.waitForNewer(last, IDLE_RECHECK_MS, abort.signal);
    }
  } finally {
    abort.abort();
  }
}

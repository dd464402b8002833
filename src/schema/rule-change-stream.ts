// The ruleChanges subscription's source. The change log is read, never the bus: each round reads the
// items after the last version delivered, so the replay → live hand-over can have neither a gap nor a
// duplicate, and a replica that lost Redis still streams (its index follows the log by polling).
import type { Context } from "./context.ts";

const VERSIONS_PER_READ = 200;
/** Upper bound on how stale a stream can be if no index update wakes it. */
const IDLE_RECHECK_MS = 1_000;

type ChangeLogItemWithAt = Awaited<ReturnType<typeof readAfter>>[number];

/** The version a subscription without sinceVersion starts after: the latest committed one. */
export async function currentVersion(ctx: Context): Promise<number> {
  return (await ctx.db.changeCounter.findUnique({ where: { id: 1 } }))?.version ?? 0;
}

function readAfter(ctx: Context, last: number) {
  return ctx.db.changeLogItem.findMany({
    where: { version: { gt: last, lte: last + VERSIONS_PER_READ } },
    orderBy: [{ version: "asc" }, { id: "asc" }],
    include: { change: { select: { at: true } } },
  });
}

/**
 * Every change log item after `since`, then live ones as they commit. The iterator's `return()` (the
 * subscriber went away) stops the stream at once: an async generator would only see it at its next
 * `yield`, so an idle stream would keep re-reading the log every second until some change came.
 */
export function streamRuleChanges(ctx: Context, since: number): AsyncIterableIterator<ChangeLogItemWithAt> {
  const abort = new AbortController();
  // Shutdown ends the stream too: an SSE subscriber gets a clean `complete`, not a cut connection.
  const stop = () => abort.abort();
  ctx.shutdown?.addEventListener("abort", stop, { once: true });
  abort.signal.addEventListener("abort", () => ctx.shutdown?.removeEventListener("abort", stop), { once: true });
  const source = read(ctx, since, abort.signal);
  return {
    next: () => source.next(),
    return: () => {
      abort.abort();
      return source.return(undefined);
    },
    throw: (error?: unknown) => {
      abort.abort();
      return source.throw(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function* read(ctx: Context, since: number, signal: AbortSignal) {
  let last = since;
  while (!signal.aborted) {
    const items = await readAfter(ctx, last);
    for (const item of items) yield item;
    const newest = items.at(-1)?.version;
    if (newest !== undefined) {
      last = newest;
      continue;
    }
    // Nothing after `last`: wait until this replica's index moves past it (a change was applied).
    await ctx.sync.waitForNewer(last, IDLE_RECHECK_MS, signal);
  }
}

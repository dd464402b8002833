// The ruleChanges subscription's source: this replica's shared change feed (src/sync/change-feed.ts),
// which replays the log after sinceVersion and then follows the index, with a slot taken from the
// subscription limits for as long as the stream is open. The stream ends (complete, over SSE and
// WebSocket alike) when the replica shuts down or when the key that opened it is revoked.
import type { FeedItem } from "../sync/change-feed.ts";
import type { Context } from "./context.ts";

/** The version a subscription without sinceVersion starts after: the latest committed one. */
export function currentVersion(ctx: Context): Promise<number> {
  return ctx.feed.currentVersion();
}

/** Every change log item after `since`, then live ones. Ends on the subscriber's `return()`, at shutdown or revocation. */
export function streamRuleChanges(ctx: Context, since: number): AsyncIterableIterator<FeedItem> {
  const release = ctx.subscriptionLimits.acquire(ctx.principal.name);
  const ended = eitherAborts(ctx.shutdown, ctx.principal.revoked);
  const source = ctx.feed.stream(since, ended.signal);
  const done = () => {
    release();
    ended.dispose();
  };
  const finish = <T>(result: Promise<IteratorResult<FeedItem, T>>) =>
    result.then(
      (r) => {
        if (r.done) done();
        return r;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  return {
    next: () => finish(source.next()),
    return: () => {
      done();
      return source.return ? source.return() : Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      done();
      return source.throw ? source.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * A signal aborted when either input aborts. Hand-made rather than AbortSignal.any so the listeners on
 * the long-lived inputs (shutdown, a key's revocation) are removed when the stream ends.
 */
function eitherAborts(a: AbortSignal | undefined, b: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (a?.aborted || b.aborted) abort();
  a?.addEventListener("abort", abort, { once: true });
  b.addEventListener("abort", abort, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      a?.removeEventListener("abort", abort);
      b.removeEventListener("abort", abort);
    },
  };
}

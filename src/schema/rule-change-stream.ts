// The ruleChanges subscription's source: this replica's shared change feed (src/sync/change-feed.ts),
// which replays the log after sinceVersion and then follows the index, with a slot taken from the
// subscription limits for as long as the stream is open.
import type { FeedItem } from "../sync/change-feed.ts";
import type { Context } from "./context.ts";

/** The version a subscription without sinceVersion starts after: the latest committed one. */
export function currentVersion(ctx: Context): Promise<number> {
  return ctx.feed.currentVersion();
}

/** Every change log item after `since`, then live ones. Ends on the subscriber's `return()` or at shutdown. */
export function streamRuleChanges(ctx: Context, since: number): AsyncIterableIterator<FeedItem> {
  const release = ctx.subscriptionLimits.acquire(ctx.role);
  const source = ctx.feed.stream(since, ctx.shutdown);
  const finish = <T>(result: Promise<IteratorResult<FeedItem, T>>) =>
    result.then(
      (r) => {
        if (r.done) release();
        return r;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    );
  return {
    next: () => finish(source.next()),
    return: () => {
      release();
      return source.return ? source.return() : Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      release();
      return source.throw ? source.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

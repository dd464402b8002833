// Subscriptions and a stopping replica. Once its shutdown signal aborts (the drain starts), a new
// subscription is refused at once — UNAVAILABLE with retryAfterMs, over SSE and WebSocket alike, on a
// new connection or a kept-alive one — and every open one ends (SSE `complete`), whatever its resolver
// does with the signal: a stream created a moment after the abort (its resolver was still awaiting a
// query) ends too. A subscription accepted by a replica that is leaving would only hold the replica
// open, or be cut a second later; refused, its client reconnects through the balancer to one that stays.
import { isAsyncIterable, type Plugin } from "graphql-yoga";
import { unavailable } from "./errors.ts";
import { RETRY_AFTER_MS } from "./write-gate.ts";

export function endSubscriptionsAtShutdown(shutdown: AbortSignal | undefined): Plugin {
  if (!shutdown) return {};
  return {
    onSubscribe({ setResultAndStopExecution }) {
      if (shutdown.aborted) {
        setResultAndStopExecution({
          errors: [
            unavailable("this replica is shutting down: subscribe again (another replica will answer)", {
              retryAfterMs: RETRY_AFTER_MS,
            }),
          ],
        });
        return;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endOnAbort(result, shutdown));
        },
      };
    },
    // Yoga's event streams say `Connection: keep-alive` whatever src/app.ts set: once draining, every
    // answer closes its connection, so the client's next try goes back through its balancer.
    onResponse({ response }) {
      if (shutdown.aborted) response.headers.set("connection", "close");
    },
  };
}

/**
 * `source` until `signal` aborts (at once if it already has): a pending `next()` then resolves done,
 * and the source is returned (its resources released). One pending read at a time, no listener per
 * event: a subscription open for days holds nothing more than one open for a second.
 */
export function endOnAbort<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  let waiting: ((result: IteratorResult<T>) => void) | null = null;
  const end = () => {
    if (ended) return;
    ended = true;
    waiting?.({ done: true, value: undefined });
    waiting = null;
    iterator.return?.().catch(() => undefined);
  };
  if (signal.aborted) end();
  else signal.addEventListener("abort", end, { once: true });
  const finished = () => signal.removeEventListener("abort", end);
  return {
    next() {
      if (ended) return Promise.resolve({ done: true, value: undefined });
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        waiting = resolve;
        iterator.next().then(
          (result) => {
            waiting = null;
            if (result.done) finished();
            resolve(result);
          },
          (error: unknown) => {
            waiting = null;
            finished();
            reject(error);
          },
        );
      });
    },
    return(value?: unknown) {
      ended = true;
      finished();
      return iterator.return ? iterator.return(value) : Promise.resolve({ done: true, value: value as T });
    },
    throw(error?: unknown) {
      ended = true;
      finished();
      return iterator.throw ? iterator.throw(error) : Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

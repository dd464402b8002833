// The stop sequence of one replica, in order, under one deadline:
// 1. drain: /readyz turns 503, every response closes its connection, new subscriptions are refused
//    and open ones end (WebSocket close 1001, SSE `complete`); delivery, queries and mutations are
//    still answered for SHUTDOWN_DRAIN_MS, while balancers notice (skipped when the replica never
//    had an index: no balancer sends it anything);
// 2. close the port;
// 3. in flight: requests still running get their answer (bounded by SHUTDOWN_TIMEOUT_MS, then their
//    connections are cut); idle kept-alive sockets and unanswered WebSockets get CLOSE_GRACE_MS from
//    the start of the drain to go, then are closed;
// 4. release: start-up settles, then pools, Redis and the database are let go.
// The deadline (drain + SHUTDOWN_TIMEOUT_MS + SHUTDOWN_GRACE_MS) bounds a dependency that hangs: stop()
// then rejects with ShutdownTimeout, and the process policy (src/index.ts) exits 1. Calling stop()
// again — a second signal, an uncaught exception during the stop — joins the same sequence.
import type http from "node:http";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** After draining and the in-flight timeout, how long releasing pools and connections may take. */
export const SHUTDOWN_GRACE_MS = 5_000;
/**
 * From the start of the drain, how long an idle kept-alive socket or a WebSocket that was sent its
 * close frame may stay: a client that just got an answer (or the close frame) replies within a round
 * trip; any later and it is closed under it.
 */
export const CLOSE_GRACE_MS = 500;
const SWEEP_MS = 100;

export class ShutdownTimeout extends Error {
  constructor(readonly deadlineMs: number) {
    super(`shutdown did not finish within ${deadlineMs} ms`);
  }
}

export interface StopPlan {
  server: http.Server;
  drainMs: number;
  timeoutMs: number;
  /** Step 1: flags and signals only (synchronous); returns whether the drain must be waited out. */
  drain(): boolean;
  /** Between the port closing and the last connection going: sockets that may be cut (WebSockets). */
  cut?(): void;
  /** Step 4. */
  release(): Promise<void>;
}

export function stopSequence(plan: StopPlan): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= withDeadline(run(plan), plan.drainMs + plan.timeoutMs + SHUTDOWN_GRACE_MS);
    return stopping;
  };
}

async function run(plan: StopPlan): Promise<void> {
  const drainStarted = performance.now();
  if (plan.drain()) await sleep(plan.drainMs);
  await closePort(plan, drainStarted);
  await plan.release();
}

/** Resolves once the port is closed and every connection is gone. */
function closePort(plan: StopPlan, drainStarted: number): Promise<void> {
  const { server } = plan;
  return new Promise<void>((resolve) => {
    let sweeping: NodeJS.Timeout | undefined;
    // net.Server's close, not http.Server's: the latter also drops idle keep-alive sockets at once,
    // racing clients that are sending on them.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(sweeping);
      clearTimeout(cutAll);
      resolve();
    });
    const sweep = () => {
      server.closeIdleConnections();
      plan.cut?.();
      sweeping = setTimeout(sweep, SWEEP_MS);
    };
    sweeping = setTimeout(sweep, Math.max(0, drainStarted + CLOSE_GRACE_MS - performance.now()));
    const cutAll = setTimeout(() => server.closeAllConnections(), plan.timeoutMs);
  });
}

function withDeadline(work: Promise<void>, deadlineMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ShutdownTimeout(deadlineMs)), deadlineMs);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

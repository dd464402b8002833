// The stop sequence of one replica, in order, under one deadline:
// 1. drain: /readyz turns 503, every response closes its connection, new subscriptions are refused
//    and open ones end (WebSocket close 1001, SSE `complete`); delivery, queries and mutations are
//    still answered for SHUTDOWN_DRAIN_MS, while balancers notice (skipped when the replica never
//    had an index: no balancer sends it anything);
// 2. close the port;
// 3. in flight: requests still running get their answer (bounded by SHUTDOWN_TIMEOUT_MS, then their
//    connections are cut); connections with no request running, and WebSockets whose client did not
//    answer the close frame, get CLOSE_GRACE_MS after the port closed, then are closed;
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
 * After the port closed, how long a connection with no request running may stay: one accepted just
 * before the close may still be sending its request (Node calls it idle until the headers are in), a
 * WebSocket client may still be answering its close frame. Both take a round trip; cut any sooner,
 * the client would see its request reset.
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
  if (plan.drain()) await sleep(plan.drainMs);
  await closePort(plan);
  await plan.release();
}

/** Resolves once the port is closed and every connection is gone. */
function closePort(plan: StopPlan): Promise<void> {
  const { server } = plan;
  return new Promise<void>((resolve) => {
    let sweeping: NodeJS.Timeout | undefined;
    // net.Server's close, not http.Server's: the latter also drops idle keep-alive sockets at once,
    // racing clients that are sending on them.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(sweeping);
      clearTimeout(cutAll);
      // Now http.Server's close has nothing left to drop: it clears Node's connection-checking interval,
      // which would otherwise keep the server in memory (the callback only says it is closed already).
      server.close(() => undefined);
      resolve();
    });
    const sweep = () => {
      server.closeIdleConnections();
      plan.cut?.();
      sweeping = setTimeout(sweep, SWEEP_MS);
    };
    // Then, until the last one is gone, a connection whose answer went out is closed as it turns idle
    // (answers since the drain began say `Connection: close`; this catches the few that started before).
    sweeping = setTimeout(sweep, CLOSE_GRACE_MS);
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

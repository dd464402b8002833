// GraphQL subscriptions for tests, over SSE (a streaming fetch parsed by hand) and over WebSocket
// (graphql-ws), with one shape: what arrived, whether the server completed the stream, and waits.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { Loose } from "./graphql.ts";

export class Subscription<T = Loose> {
  readonly data: T[] = [];
  readonly errors: Loose[] = [];
  /** The stream ended (for any reason). */
  ended = false;
  /** The server ended it itself: SSE `complete`, graphql-ws `complete`. */
  completed = false;
  failure?: unknown;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly onClose: () => Promise<void> | void) {}

  push(value: T) {
    this.data.push(value);
    this.wake();
  }

  error(errors: Loose[]) {
    this.errors.push(...errors);
    this.wake();
  }

  end(failure?: unknown) {
    if (failure !== undefined) this.failure = failure;
    this.ended = true;
    this.wake();
  }

  private wake() {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs` saying what arrived. */
  until(done: (s: this) => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (done(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}: ${this.data.length} events, errors ${JSON.stringify(this.errors)}, ended ${this.ended}, completed ${this.completed}, failure ${String(this.failure)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  close() {
    return this.onClose();
  }
}

/** Subscribes over SSE; resolves once the response headers arrived (the subscription is open). */
export async function subscribeSse<T = Loose>(
  baseUrl: string,
  token: string | null,
  query: string,
  variables: Loose = {},
): Promise<Subscription<T> & { status: number; contentType: string | null }> {
  const abort = new AbortController();
  let reading: Promise<void> = Promise.resolve();
  const subscription = new Subscription<T>(async () => {
    abort.abort();
    await reading;
  });
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const onEvent = (block: string) => {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // keep-alive comment
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (event === "complete") {
      subscription.completed = true;
      subscription.end();
      return;
    }
    if (event !== "next") return;
    const payload = JSON.parse(data.join("\n")) as { data?: Record<string, T>; errors?: Loose[] };
    if (payload.errors) subscription.error(payload.errors);
    const value = payload.data && Object.values(payload.data)[0];
    if (value) subscription.push(value);
  };
  reading = (async () => {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      subscription.end();
    } catch (error) {
      subscription.end(abort.signal.aborted ? undefined : error);
    }
  })();
  return Object.assign(subscription, { status: res.status, contentType: res.headers.get("content-type") });
}

/**
 * Subscribes over WebSocket (graphql-ws): the token in connection_init's payload, or (`tokenIn:
 * "header"`) in the upgrade request's Authorization header; `connectionParams` replaces the payload.
 */
export function subscribeWs<T = Loose>(
  baseUrl: string,
  token: string | null,
  query: string,
  variables: Loose = {},
  options: { tokenIn?: "connectionParams" | "header"; connectionParams?: Loose } = {},
): Subscription<T> & { socketClosed: Promise<{ code: number }> } {
  let closed: (event: { code: number }) => void = () => {};
  const socketClosed = new Promise<{ code: number }>((resolve) => {
    closed = resolve;
  });
  const authorization = token === null ? undefined : `Bearer ${token}`;
  const viaHeader = options.tokenIn === "header";
  class HeaderWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: authorization ? { authorization } : {} });
    }
  }
  const client = createClient({
    url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: viaHeader ? HeaderWebSocket : WebSocket,
    connectionParams: options.connectionParams ?? (authorization && !viaHeader ? { authorization } : {}),
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => closed(event as { code: number }) },
  });
  let unsubscribe = () => {};
  const subscription = new Subscription<T>(async () => {
    unsubscribe();
    await client.dispose();
  });
  unsubscribe = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) subscription.error([...result.errors] as Loose[]);
        const value = result.data && Object.values(result.data)[0];
        if (value) subscription.push(value);
      },
      error: (error) => {
        // graphql-ws hands GraphQL errors over as an array; anything else is a transport failure.
        if (Array.isArray(error)) {
          subscription.error(error as Loose[]);
          subscription.end();
        } else subscription.end(error);
      },
      complete: () => {
        subscription.completed = true;
        subscription.end();
      },
    },
  );
  return Object.assign(subscription, { socketClosed });
}

// Builds the HTTP server — the whole HTTP layer: /v1/delivery (plain node:http, the hot path), health
// and readiness, the OpenAPI document, whatever request listeners the runtime mounts (GraphQL,
// metrics, the dashboard), and protocol upgrades: WebSocket on the paths given in `upgrades` (GraphQL's
// graphql-ws), any other upgrade offer (h2c…) declined and answered as plain HTTP. Never listens by
// itself. One error boundary around every route: an unexpected throw or rejection answers that
// request with a JSON 500 carrying its request id, logs it, and the replica goes on serving.
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import openapi from "../docs/openapi.json" with { type: "json" };
import { createDeliveryHandler, type DeliveryObserver, rawHeader, type SnapshotSource } from "./delivery/handler.ts";
import { declineUpgrade } from "./http/decline-upgrade.ts";
import type { Logger } from "./logger.ts";

/** A route may answer synchronously or return a promise (Yoga does); a rejection is caught like a throw. */
export type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Takes over a socket whose request asked for a WebSocket (e.g. `WebSocketServer#handleUpgrade`). */
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface Readiness {
  ready: boolean;
  detail: Record<string, unknown>;
}

export interface AppOptions {
  log: Logger;
  index: SnapshotSource;
  readiness: () => Readiness;
  observeDelivery?: DeliveryObserver;
  /** Other routes by exact path, e.g. "/graphql", "/metrics". */
  routes?: Record<string, Listener>;
  /** WebSocket upgrades by exact path, e.g. "/graphql". */
  upgrades?: Record<string, UpgradeListener>;
  /**
   * Aborted when the replica starts stopping: from then on every response closes its connection
   * (kept-alive clients go back through their balancer; a route's answer still being prepared gets
   * `Connection: close` too) and WebSocket upgrades are answered 503.
   */
  draining?: AbortSignal;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** docs/openapi.json (compiled into dist/ with the code), serialised once. */
const OPENAPI_BODY = Buffer.from(JSON.stringify(openapi));

const openapiRoute: Listener = (req, res) => {
  req.resume();
  if (req.method !== "GET" && req.method !== "HEAD") {
    return sendJson(res, 405, { error: `method ${req.method} not allowed` }, { Allow: "GET, HEAD" });
  }
  res.writeHead(200, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": OPENAPI_BODY.length,
    "Cache-Control": "no-cache",
  });
  res.end(req.method === "HEAD" ? undefined : OPENAPI_BODY);
};

/** Same rule as GraphQL's request log: a caller's X-Request-Id is echoed when it is a plain token. */
const SAFE_REQUEST_ID = /^[\w.:-]{1,100}$/;

export function createApp(options: AppOptions): http.Server {
  const delivery = createDeliveryHandler(options.index, options.observeDelivery);
  const routes: Record<string, Listener> = { "/v1/openapi.json": openapiRoute, ...options.routes };
  const upgrades: Record<string, UpgradeListener> = { ...options.upgrades };
  const log = options.log;
  const draining = options.draining;
  // Answers of the mounted routes (GraphQL, metrics…) still being prepared; not delivery's, which are
  // written in the tick they are asked for (nothing added to the hot path).
  const preparing = new Set<ServerResponse>();
  draining?.addEventListener(
    "abort",
    () => {
      for (const res of preparing) if (!res.headersSent) res.setHeader("Connection", "close");
    },
    { once: true },
  );

  const dispatch = (req: IncomingMessage, res: ServerResponse): unknown => {
    if (draining?.aborted) res.setHeader("Connection", "close");
    // No Host on HTTP/1.1 is still refused, but with a JSON body like every other error.
    if (req.httpVersion === "1.1" && rawHeader(req, "host") === undefined) {
      req.resume();
      res.setHeader("Connection", "close");
      return sendJson(res, 400, { error: "missing Host header" });
    }
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (path === "/v1/delivery") return delivery(req, res, q === -1 ? "" : url.slice(q + 1));
    if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
    if (path === "/readyz") {
      const { ready, detail } = options.readiness();
      return sendJson(res, ready ? 200 : 503, { status: ready ? "ready" : "not ready", ...detail });
    }
    const route = routes[path];
    if (route) {
      preparing.add(res);
      res.once("close", () => preparing.delete(res));
      return route(req, res);
    }
    req.resume();
    sendJson(res, 404, { error: `no route ${path}` });
  };

  /** The error boundary's answer: a JSON 500 with the request id (nothing of the error), and a log line. */
  const failed = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    const incoming = req.headers["x-request-id"];
    const reqId = typeof incoming === "string" && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    log.error({ err: error, reqId, method: req.method, path: req.url?.split("?")[0] }, "request failed");
    req.resume();
    if (!res.headersSent) {
      res.removeHeader("Content-Length");
      sendJson(res, 500, { error: "internal error", reqId }, { "X-Request-Id": reqId });
    } else if (!res.writableEnded) {
      res.destroy(); // half a response went out: the client must not take it for a whole one
    }
  };

  // requireHostHeader: false — see dispatch: the missing Host is answered in JSON.
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    try {
      const pending = dispatch(req, res);
      if (typeof (pending as PromiseLike<unknown> | undefined)?.then === "function") {
        Promise.resolve(pending).catch((error: unknown) => failed(req, res, error));
      }
    } catch (error) {
      failed(req, res, error);
    }
  });
  // Slow or stuck clients cannot hold sockets forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  // Requests Node answers by itself (unparsable, an unknown Expect, CONNECT) get a JSON error too.
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    if (error.code === "HPE_HEADER_OVERFLOW") return endRaw(socket, 431, "request headers too large");
    endRaw(socket, 400, "bad request");
  });
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.setHeader("Connection", "close");
    sendJson(res, 417, { error: "unsupported Expect header" });
  });
  server.on("connect", (_req: IncomingMessage, socket: Duplex) => endRaw(socket, 405, "method CONNECT not allowed"));
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    const listener = upgrades[path];
    // Any other upgrade offer (e.g. `Upgrade: h2c` from curl --http2) is declined: answered as plain HTTP.
    if (!listener || req.headers.upgrade?.toLowerCase() !== "websocket")
      return declineUpgrade(server, req, socket, head);
    // A WebSocket outlives any drain: a stopping replica takes none (its client retries elsewhere).
    if (draining?.aborted) return endRaw(socket, 503, "shutting down");
    try {
      listener(req, socket, head);
    } catch (error) {
      log.error({ err: error, path }, "upgrade failed");
      if (socket.writable) endRaw(socket, 500, "internal error");
      else socket.destroy();
    }
  });
  return server;
}

/**
 * A JSON error written straight to a socket that has no ServerResponse (a refused upgrade, a request
 * Node could not parse), then closed. A 503 says when to retry.
 */
export function endRaw(socket: Duplex, status: number, error: string): void {
  const body = JSON.stringify({ error });
  const retry = status === 503 ? "Retry-After: 1\r\n" : "";
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${retry}Connection: close\r\n\r\n${body}`,
  );
}

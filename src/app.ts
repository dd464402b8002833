// Builds the HTTP server: /v1/delivery (plain node:http, the hot path), health and readiness, and
// whatever request listeners the runtime mounts (GraphQL, metrics). Never listens by itself.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createDeliveryHandler, type DeliveryObserver, type SnapshotSource } from "./delivery/handler.ts";

export type Listener = (req: IncomingMessage, res: ServerResponse) => void;

export interface Readiness {
  ready: boolean;
  detail: Record<string, unknown>;
}

export interface AppOptions {
  index: SnapshotSource;
  readiness: () => Readiness;
  observeDelivery?: DeliveryObserver;
  /** Other routes by exact path, e.g. "/graphql", "/metrics". */
  routes?: Record<string, Listener>;
  /** True once the port is closing: every response then closes its connection. */
  closing?: () => boolean;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

export function createApp(options: AppOptions): http.Server {
  const delivery = createDeliveryHandler(options.index, options.observeDelivery);
  const routes = options.routes ?? {};
  // No Host on HTTP/1.1 is still refused (below), but with a JSON body like every other error.
  const server = http.createServer({ requireHostHeader: false }, (req, res) => {
    if (options.closing?.()) res.setHeader("Connection", "close");
    if (req.headers.host === undefined && req.httpVersion === "1.1") {
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
    if (route) return route(req, res);
    req.resume();
    sendJson(res, 404, { error: `no route ${path}` });
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
  return server;
}

/** A JSON error written straight to a socket that has no ServerResponse, then closed. */
function endRaw(socket: Duplex, status: number, error: string): void {
  const body = JSON.stringify({ error });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

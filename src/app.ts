// Builds the HTTP server: /v1/delivery (plain node:http, the hot path), health and readiness, and
// whatever request listeners the runtime mounts (GraphQL, metrics). Never listens by itself.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
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
  const server = http.createServer((req, res) => {
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
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const body = JSON.stringify({ error: status === 431 ? "request headers too large" : "bad request" });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}

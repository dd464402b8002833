// A request that offers a protocol upgrade we do not take (e.g. `Upgrade: h2c` from curl --http2) is
// still an ordinary HTTP/1.1 request (RFC 9110 §7.8: the server may ignore Upgrade). Node hands any
// request with Upgrade to the 'upgrade' event and stops parsing that connection, so the request is put
// back on the socket without its upgrade headers and the server parses the connection afresh: GET and
// POST alike get their normal answer, and keep-alive goes on.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";

const UPGRADE_HEADERS = new Set(["upgrade", "http2-settings"]);

export function declineUpgrade(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    let value = req.rawHeaders[i + 1] as string;
    if (UPGRADE_HEADERS.has(name.toLowerCase())) continue;
    if (name.toLowerCase() === "connection") {
      value = value
        .split(",")
        .map((token) => token.trim())
        .filter((token) => token && !UPGRADE_HEADERS.has(token.toLowerCase()))
        .join(", ");
      if (!value) continue;
    }
    lines.push(`${name}: ${value}`);
  }
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), head]));
  server.emit("connection", socket);
}

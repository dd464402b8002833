// A local TCP proxy a fault test can cut and restore, to take a dependency away from the processes
// under test without touching the shared service itself.
import net from "node:net";
import { freePort } from "./redis.ts";

export interface TcpProxy {
  port: number;
  /** Closes every connection and refuses new ones, as if the service went down. */
  cut(): Promise<void>;
  /** Accepts connections again. */
  restore(): Promise<void>;
  /** Keeps every connection open but stops forwarding bytes: the service hangs instead of going away. */
  freeze(): void;
  /** Bytes clients sent since the freeze (held, never forwarded): a request has reached the "service". */
  heldBytes(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let frozen = false;
  let held = 0;
  const hold = (client: net.Socket) => client.on("data", (chunk: Buffer) => (held += chunk.length)).resume();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server?.listening) return resolve();
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        if (!frozen) client.pipe(upstream).pipe(client);
        else hold(client);
      });
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (!server?.listening) return resolve();
      server.close(() => resolve());
    });
  await listen();
  const freeze = () => {
    frozen = true;
    // Unpiped sockets stay open and unread: requests sent into them never get an answer.
    for (const socket of sockets) socket.unpipe();
    for (const socket of sockets) if (socket.remotePort !== targetPort) hold(socket);
  };
  return { port, cut: stop, restore: listen, close: stop, freeze, heldBytes: () => held };
}

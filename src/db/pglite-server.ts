// Serves one PGlite over TCP to many clients (several pooled connections, several worker processes).
// PGlite is a single backend session, so a client OWNS it from its first message until PGlite answers
// ReadyForQuery outside a transaction block: neither an extended-protocol sequence (Parse…Sync, whose
// unnamed statement lives until Sync) nor a transaction can interleave with another client's.
// @electric-sql/pglite-socket's server only pins a client while a transaction block is open, which lets
// two clients' Parse/Bind interleave ("unnamed prepared statement does not exist", pglite#1046); this
// was reproduced here with two workers writing at once.
import net, { type AddressInfo, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const READY_FOR_QUERY = 0x5a; // 'Z'
const TERMINATE = 0x58; // 'X'
const IDLE = 0x49; // 'I': ReadyForQuery status outside a transaction block
const SYNC = new Uint8Array([0x53, 0, 0, 0, 4]);

/** A FIFO lock on the one session; `release` hands it to the next waiting client. */
class SessionLock {
  private owner: Connection | undefined;
  private readonly waiting: Array<{ client: Connection; grant: () => void }> = [];

  async acquire(client: Connection): Promise<void> {
    if (this.owner === client) return;
    if (!this.owner) {
      this.owner = client;
      return;
    }
    await new Promise<void>((grant) => this.waiting.push({ client, grant }));
  }

  release(client: Connection): void {
    const at = this.waiting.findIndex((w) => w.client === client);
    if (at >= 0) this.waiting.splice(at, 1);
    if (this.owner !== client) return;
    const next = this.waiting.shift();
    this.owner = next?.client;
    next?.grant();
  }

  ownedBy(client: Connection): boolean {
    return this.owner === client;
  }
}

/** Follows the backend's message framing across output chunks to find each ReadyForQuery status. */
class ReadyTracker {
  private header = Buffer.alloc(5);
  private headerBytes = 0;
  private bodyLeft = 0;
  private type = 0;
  status: number | undefined;

  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - at);
        if (this.type === READY_FOR_QUERY) this.status = chunk[at + take - 1];
        this.bodyLeft -= take;
        at += take;
        continue;
      }
      this.header[this.headerBytes++] = chunk[at++] as number;
      if (this.headerBytes === 5) {
        this.type = this.header[0] as number;
        this.bodyLeft = this.header.readInt32BE(1) - 4;
        this.headerBytes = 0;
      }
    }
  }
}

class Connection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private busy = false;
  private closed = false;
  private abandoned = false;
  private readonly output = new ReadyTracker();

  constructor(
    private readonly socket: Socket,
    private readonly db: PGlite,
    private readonly lock: SessionLock,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (data) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
      void this.drain();
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closed = true;
      void this.abandon();
    });
  }

  /** Runs every complete message in order; one drain at a time per connection. */
  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let message = this.next(); message && !this.closed; message = this.next()) {
        if (message[0] === TERMINATE && this.started) {
          this.socket.end();
          break;
        }
        await this.lock.acquire(this);
        if (this.closed) break;
        this.output.status = undefined;
        await this.db.runExclusive(() =>
          this.db.execProtocolRawStream(message, {
            onRawData: (data) => {
              this.output.feed(data);
              if (!this.closed) this.socket.write(Buffer.from(data)); // data is a view into PGlite's memory
            },
          }),
        );
        this.started = true;
        if (this.output.status === IDLE) this.lock.release(this);
      }
    } catch {
      this.socket.destroy();
    } finally {
      this.busy = false;
    }
    if (this.closed) await this.abandon();
  }

  /** Cuts the next complete frontend message off the buffer, answering pre-startup requests itself. */
  private next(): Uint8Array | undefined {
    for (;;) {
      if (!this.started) {
        if (this.buffer.length < 8) return undefined;
        const length = this.buffer.readInt32BE(0);
        const code = this.buffer.readInt32BE(4);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.buffer = this.buffer.subarray(8);
          this.socket.write("N"); // no encryption; the client goes on in plain text
          continue;
        }
        if (code === CANCEL_REQUEST) {
          this.socket.destroy();
          return undefined;
        }
        if (this.buffer.length < length) return undefined;
        return this.take(length);
      }
      if (this.buffer.length < 5) return undefined;
      const length = 1 + this.buffer.readInt32BE(1);
      if (this.buffer.length < length) return undefined;
      return this.take(length);
    }
  }

  private take(length: number): Uint8Array {
    const message = new Uint8Array(this.buffer.subarray(0, length));
    this.buffer = this.buffer.subarray(length);
    return message;
  }

  /** A client gone mid-sequence or mid-transaction: end its work so the next client starts clean. */
  private async abandon(): Promise<void> {
    if (!this.lock.ownedBy(this)) {
      this.lock.release(this); // leaves the queue if it was waiting
      return;
    }
    if (this.busy || this.abandoned) return; // drain() calls again once its message is done
    this.abandoned = true;
    try {
      await this.db.runExclusive(() => this.db.execProtocolRawStream(SYNC, { onRawData: () => {} }));
      if (this.db.isInTransaction()) await this.db.exec("ROLLBACK");
    } finally {
      this.lock.release(this);
    }
  }
}

export interface PGliteServer {
  /** host:port */
  address: string;
  close(): Promise<void>;
}

export async function servePGlite(db: PGlite, host = "127.0.0.1", port = 0): Promise<PGliteServer> {
  const lock = new SessionLock();
  const sockets = new Set<Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    new Connection(socket, db, lock);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${host}:${bound.port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

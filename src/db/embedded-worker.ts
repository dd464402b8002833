// The embedded Postgres's thread (started by embedded.ts): PGlite and its TCP server. PGlite runs
// Postgres in WASM synchronously — creating the data directory blocks for 5–30 s, every statement for
// as long as it runs — so on the main thread it would stall delivery, /healthz and /readyz meanwhile.
// Here only this thread waits. Messages: → {address} once serving (or the thread fails with the error);
// ← "stop" → closes the server and the database, then the thread ends.
import { mkdirSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { servePGlite } from "./pglite-server.ts";

const port = parentPort;
if (!port) throw new Error("embedded-worker.ts runs as a worker thread (see embedded.ts)");
const { dataDir } = workerData as { dataDir: string };
mkdirSync(dataDir, { recursive: true }); // PGlite does not create parent folders
const db = await PGlite.create(dataDir);
const server = await servePGlite(db);
port.once("message", async () => {
  await server.close();
  await db.close();
  port.close();
});
port.postMessage({ address: server.address });

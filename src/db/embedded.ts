// Zero-setup default: an in-process Postgres (PGlite, WASM) exposed over TCP, so the app reaches it
// through the same pg/@prisma/adapter-pg path as a real server. It runs on a worker thread of its own
// (embedded-worker.ts): its WASM work never blocks this thread's event loop. Its clients take turns on
// its single session (see pglite-server.ts); with WORKERS>1 the cluster primary runs it for every worker.
import { Worker } from "node:worker_threads";

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const worker = new Worker(workerEntry(), { eval: fromSources, workerData: { dataDir } });
  const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
  const address = await new Promise<string>((resolve, reject) => {
    worker.once("message", (message: { address: string }) => resolve(message.address));
    worker.once("error", reject);
    exited.then((code) => reject(new Error(`the embedded Postgres thread ended (code ${code}) before serving`)));
  });
  return {
    url: `postgresql://postgres:postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      worker.postMessage("stop");
      await exited;
    },
  };
}

const fromSources = import.meta.url.endsWith(".ts");

/**
 * Compiled: the .js beside this file. From the sources (tsx, vitest): a bootstrap that registers tsx in
 * the thread first — `--import tsx` in a worker's execArgv does not load .ts files on Node 20 (tsx#354).
 */
function workerEntry(): URL | string {
  if (!fromSources) return new URL("./embedded-worker.js", import.meta.url);
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./embedded-worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}

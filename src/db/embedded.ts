// Zero-setup default: an in-process Postgres (PGlite, WASM) exposed over TCP, so the app reaches it
// through the same pg/@prisma/adapter-pg path as a real server. Its clients take turns on its single
// session (see pglite-server.ts); with WORKERS>1 the cluster primary runs it for every worker.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { servePGlite } from "./pglite-server.ts";

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  mkdirSync(dataDir, { recursive: true }); // PGlite does not create parent folders
  const db = await PGlite.create(dataDir);
  const server = await servePGlite(db);
  return {
    url: `postgresql://postgres:postgres@${server.address}/postgres?sslmode=disable`,
    async stop() {
      await server.close();
      await db.close();
    },
  };
}

// First-use costs, paid at start-up instead of by the first mutation a replica serves. The first
// GraphQL operation has graphql-js validate the whole schema, and each Prisma client's query compiler
// (WebAssembly, compiled function by function on first call) compiles its first model query: measured
// on a replica with a loaded index, the first operation held its loop ~110 ms and the first
// upsertCategory, even of 10 apps, 54–59 ms, against 2–7 ms for the next ones of 10,000 apps. Start-up
// pays it before the index loads, while the replica is not ready; nothing here writes, and a database
// slow to answer delays the start by WARM_UP_MAX_MS at most (the first request then pays instead).
import { validateSchema } from "graphql";
import type { Database } from "../db/open.ts";
import type { Logger } from "../logger.ts";
import { schema } from "../schema/index.ts";

const WARM_UP_MAX_MS = 2_000;

export async function warmUp(database: Database, log: Logger): Promise<void> {
  const started = performance.now();
  validateSchema(schema);
  // One model read per client that serves GraphQL or writes: each has a compiler of its own.
  const reads = Promise.all(
    [database.writes, database.api].map((db) => db.category.findFirst({ where: { id: "" }, select: { id: true } })),
  ).then(
    () => true,
    (error: unknown) => {
      log.debug({ err: error }, "warm-up read failed (the first request pays instead)");
      return false;
    },
  );
  let late: NodeJS.Timeout | undefined;
  const warmed = await Promise.race([reads, new Promise<false>((r) => (late = setTimeout(r, WARM_UP_MAX_MS, false)))]);
  clearTimeout(late);
  log.debug({ ms: Math.round(performance.now() - started), warmed }, "warm-up of the schema and query compilers");
}

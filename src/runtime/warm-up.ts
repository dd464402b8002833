// First-use costs, paid at start-up instead of by the first mutation a replica serves. The first
// GraphQL operation has graphql-js validate the whole schema, and each Prisma client's query compiler
// (WebAssembly, compiled function by function on first call) compiles its first model query: measured
// on a replica with a loaded index, the first operation held its loop ~110 ms and the first
// upsertCategory, even of 10 apps, 54–59 ms, against 2–7 ms for the next ones of 10,000 apps. The
// first request through Yoga's pipeline (its plugins, parsing, validation, execution, the
// authentication context) still held the loop 18–21 ms after that; one `{ __typename }` query, sent
// to the handler in-process with the admin token, takes that to 0.2–3.5 ms. Start-up pays all of it
// before the index loads, while the replica is not ready; nothing here writes, and a database slow to
// answer delays the start by WARM_UP_MAX_MS at most (the first request then pays instead).
import { validateSchema } from "graphql";
import type { Database } from "../db/open.ts";
import type { Logger } from "../logger.ts";
import { schema } from "../schema/index.ts";

const WARM_UP_MAX_MS = 2_000;

/** The GraphQL handler's in-process entry (Yoga's `fetch`): the request never reaches the network. */
interface GraphQLFetch {
  fetch(url: string, init: RequestInit): Response | Promise<Response>;
}

/** A query through the whole GraphQL pipeline; logged and counted as `query WarmUp`, request id `warm-up`. */
async function firstOperation(graphql: GraphQLFetch, token: string): Promise<boolean> {
  const response = await graphql.fetch("http://localhost/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "x-request-id": "warm-up" },
    body: JSON.stringify({ query: "query WarmUp { __typename }" }),
  });
  await response.arrayBuffer();
  return response.ok;
}

export async function warmUp(database: Database, log: Logger, graphql: GraphQLFetch, token?: string): Promise<void> {
  const started = performance.now();
  validateSchema(schema);
  const work = Promise.all([
    // One model read per client that serves GraphQL or writes: each has a compiler of its own.
    ...[database.writes, database.api].map((db) =>
      db.category.findFirst({ where: { id: "" }, select: { id: true } }).then(() => true),
    ),
    token ? firstOperation(graphql, token) : true,
  ]).then(
    (done) => done.every(Boolean),
    (error: unknown) => {
      log.debug({ err: error }, "warm-up failed (the first request pays instead)");
      return false;
    },
  );
  let late: NodeJS.Timeout | undefined;
  const warmed = await Promise.race([work, new Promise<false>((r) => (late = setTimeout(r, WARM_UP_MAX_MS, false)))]);
  clearTimeout(late);
  log.debug(
    { ms: Math.round(performance.now() - started), warmed },
    "warm-up of the schema, GraphQL and query compilers",
  );
}

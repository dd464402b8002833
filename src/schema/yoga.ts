// The GraphQL endpoint: a Yoga instance over the Pothos schema, usable as a node request listener.
// Built here, mounted by the runtime (it never listens itself).

import type { IncomingMessage, ServerResponse } from "node:http";
import { createYoga } from "graphql-yoga";
import type { Logger } from "../logger.ts";
import { createTokenAuth } from "./auth.ts";
import { type Context, createContext, type GraphQLDeps } from "./context.ts";
import { maskError, unauthenticated } from "./errors.ts";
import { schema } from "./index.ts";

export type { GraphQLDeps } from "./context.ts";

/** Yoga reads the body before the token is checked: cap what a declared body may be (imports ~2 MB). */
export const MAX_GRAPHQL_BODY_BYTES = 32 * 1024 * 1024;

interface ServerContext {
  req: IncomingMessage;
  res: ServerResponse;
}

export function createGraphQLHandler(deps: GraphQLDeps) {
  const auth = createTokenAuth(deps.config, deps.log);
  const log = deps.log.child({ component: "graphql" });
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    // GraphiQL page on a browser GET; the operations it sends need a token like any other.
    graphiql: { title: "Bullseye", defaultQuery: "{ indexStatus { version campaigns builtAt } }" },
    landingPage: false,
    maskedErrors: {
      maskError,
      isDev: deps.config.NODE_ENV === "development",
    },
    logging: {
      debug: (...args) => toPino(log, "debug", args),
      info: (...args) => toPino(log, "info", args),
      warn: (...args) => toPino(log, "warn", args),
      error: (...args) => toPino(log, "error", args),
    },
    plugins: [
      {
        onRequest({ request, endResponse, fetchAPI }) {
          if (Number(request.headers.get("content-length")) > MAX_GRAPHQL_BODY_BYTES) {
            const body = JSON.stringify({ errors: [{ message: `body larger than ${MAX_GRAPHQL_BODY_BYTES} bytes` }] });
            endResponse(new fetchAPI.Response(body, { status: 413, headers: { "content-type": "application/json" } }));
          }
        },
      },
    ],
    // Authentication fails the whole operation (no partial data, no introspection without a token).
    context: ({ request }) => {
      const role = auth.roleOf(request.headers.get("authorization"));
      if (!role) throw unauthenticated();
      return createContext(deps, role);
    },
  });
}

/** Yoga logs console-style (message or error, then details); pino wants (object, message). */
function toPino(log: Logger, level: "debug" | "info" | "warn" | "error", args: unknown[]): void {
  const [first, ...rest] = args;
  if (first instanceof Error) log[level]({ err: first }, "yoga error");
  else log[level](rest.length ? { details: rest } : {}, String(first));
}

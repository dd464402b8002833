// The GraphQL endpoint: a Yoga instance over the Pothos schema, usable as a node request listener.
// Built here, mounted by the runtime (it never listens itself).

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { type ExecutionArgs, GraphQLError, getOperationAST } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type GraphiQLOptions, isAsyncIterable, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { WebSocketServer } from "ws";
import { declineUpgrade } from "../http/decline-upgrade.ts";
import type { Logger } from "../logger.ts";
import { createTokenAuth } from "./auth.ts";
import { type Context, createContext, type GraphQLDeps, readFrom } from "./context.ts";
import { maskError, unauthenticated } from "./errors.ts";
import { schema } from "./index.ts";
import { requestGuards } from "./request-guards.ts";
import { requestLog } from "./request-log.ts";

export type { GraphQLDeps } from "./context.ts";

/** Yoga reads the body before the token is checked: cap what a declared body may be (imports ~2 MB). */
export const MAX_GRAPHQL_BODY_BYTES = 32 * 1024 * 1024;

interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** graphql-ws connection_init payload, for subscriptions over WebSocket. */
  connectionParams?: Record<string, unknown>;
}

export function createGraphQLHandler(deps: GraphQLDeps) {
  const auth = createTokenAuth(deps.config, deps.log);
  const log = deps.log.child({ component: "graphql" });
  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    // GraphiQL page on a browser GET; the operations it sends need a token like any other. Its code is
    // inlined from the package (no CDN): it works offline and loads no third-party script on this origin.
    graphiql: { title: "Bullseye", defaultQuery: "{ indexStatus { version campaigns builtAt } }" },
    renderGraphiQL: graphiqlPage,
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
      requestLog(log),
      // Bounds on what one operation may ask for (depth, cost, aliases, tokens, directives).
      EnvelopArmorPlugin({
        maxDepth: { n: 12, ignoreIntrospection: true },
        costLimit: { maxCost: 5_000, ignoreIntrospection: true },
        maxAliases: { n: 15 },
        maxDirectives: { n: 20 },
        maxTokens: { n: 5_000 },
        blockFieldSuggestion: { enabled: deps.config.NODE_ENV === "production" },
      }),
      operationMetrics(deps.observeOperation),
      readRouting(deps.readDatabase),
      requestGuards(),
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
    context: ({ request, req, connectionParams }) => {
      // HTTP and SSE: the Authorization header. WebSocket: connection_init's `authorization` (browsers
      // cannot set headers on a WebSocket), else the upgrade request's header. Never the query string.
      const header =
        request?.headers.get("authorization") ??
        (typeof connectionParams?.authorization === "string" ? connectionParams.authorization : null) ??
        req?.headers.authorization ??
        null;
      const role = auth.roleOf(header);
      if (!role) throw unauthenticated();
      return createContext(deps, role);
    },
  });
}

/**
 * The page inlines ~9 MB of GraphiQL code: loaded on the first browser visit only (not at every start),
 * rendered and encoded once (our options never change).
 */
let graphiqlBytes: Promise<Uint8Array<ArrayBuffer>> | undefined;
function graphiqlPage(options: GraphiQLOptions): Promise<Uint8Array<ArrayBuffer>> {
  graphiqlBytes ??= import("@graphql-yoga/render-graphiql").then(({ renderGraphiQL }) =>
    new TextEncoder().encode(renderGraphiQL(options)),
  );
  return graphiqlBytes;
}

/** Yoga logs console-style (message or error, then details); pino wants (object, message). */
function toPino(log: Logger, level: "debug" | "info" | "warn" | "error", args: unknown[]): void {
  const [first, ...rest] = args;
  if (first instanceof Error) log[level]({ err: first }, "yoga error");
  else log[level](rest.length ? { details: rest } : {}, String(first));
}

type GraphQLHandler = YogaServerInstance<ServerContext, Context>;
type Enveloped = Pick<ReturnType<GraphQLHandler["getEnveloped"]>, "execute" | "subscribe">;

/** graphql-ws (WebSocket) on the same path as HTTP/SSE, executed through Yoga's envelop (same plugins). */
export function attachGraphQLWebSocket(server: Server, yoga: GraphQLHandler) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on("upgrade", (req, socket, head) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === yoga.graphqlEndpoint && req.headers.upgrade?.toLowerCase() === "websocket") {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
      return;
    }
    // Any other upgrade offer (e.g. `Upgrade: h2c` from curl --http2) is declined: answered as plain HTTP.
    declineUpgrade(server, req, socket, head);
  });
  const handle = useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args as ExecutionArgs),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args as ExecutionArgs),
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          connectionParams: ctx.connectionParams,
          params: payload,
        });
        try {
          const args = {
            schema,
            operationName: payload.operationName,
            document: parse(payload.query),
            variableValues: payload.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          const errors = validate(args.schema, args.document);
          return errors.length ? errors : args;
        } catch (error) {
          // A bad token or a syntax error is this operation's error, with its extensions.code as over
          // HTTP; thrown, graphql-ws would close the whole socket with 4500 and only the message.
          if (error instanceof GraphQLError) return [withoutHttpExtension(error)];
          throw error;
        }
      },
    },
    wss,
  );
  return {
    async close() {
      await handle.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** `extensions.http` (status, headers) is for Yoga's HTTP responses; over WebSocket it means nothing. */
function withoutHttpExtension(error: GraphQLError): GraphQLError {
  if (!("http" in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

/** Queries read the read database (replica when fresh enough); mutations and subscriptions the primary. */
function readRouting(readDatabase: GraphQLDeps["readDatabase"]): Plugin<Context> {
  return {
    async onExecute({ args }) {
      if (!readDatabase) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== "query") return;
      readFrom(args.contextValue, await readDatabase());
    },
  };
}

function operationMetrics(observe: GraphQLDeps["observeOperation"]): Plugin {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      return {
        onExecuteDone({ result }) {
          const failed = !isAsyncIterable(result) && (result.errors?.length ?? 0) > 0;
          observe?.(operation?.operation ?? "unknown", operation?.name?.value, failed ? "error" : "ok");
        },
      };
    },
  };
}

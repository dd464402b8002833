// The GraphQL endpoint: a Yoga instance over the Pothos schema, usable as a node request listener, and
// its graphql-ws (WebSocket) handler. Built here, mounted by src/app.ts (nothing here listens or
// touches the server).

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { type ExecutionArgs, GraphQLError, getOperationAST } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { createYoga, type GraphiQLOptions, isAsyncIterable, type Plugin, type YogaServerInstance } from "graphql-yoga";
import { WebSocketServer } from "ws";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { createTokenAuth, type TokenAuth } from "./auth.ts";
import { type Context, createContext, type GraphQLDeps, readFrom } from "./context.ts";
import { endSubscriptionsAtShutdown } from "./drain.ts";
import { maskError, unauthenticated } from "./errors.ts";
import { schema } from "./index.ts";
import { noEcho, shortenError, shortenResult } from "./no-echo.ts";
import { operationLimits } from "./operation-limits.ts";
import { requestGuards } from "./request-guards.ts";
import { requestLog } from "./request-log.ts";
import { slicedJsonBodies } from "./sliced-json.ts";
import { slicedVariables } from "./sliced-variables.ts";

export type { GraphQLDeps } from "./context.ts";

/** What an authenticated request may send (imports of 10,000 campaigns are a few MB). */
export const MAX_GRAPHQL_BODY_BYTES = 32 * 1024 * 1024;
/**
 * A request without a valid token is answered 401 before its body is read; a declared body up to this
 * size is drained so the connection can be kept, anything larger (or chunked) closes the connection.
 */
export const UNAUTHENTICATED_BODY_BYTES = 64 * 1024;

/** The token check of each handler, shared with its WebSocket server (one generated admin token). */
const authOf = new WeakMap<object, TokenAuth>();

interface ServerContext {
  req: IncomingMessage;
  res?: ServerResponse;
  /** graphql-ws connection_init payload, for subscriptions over WebSocket. */
  connectionParams?: Record<string, unknown>;
}

export function createGraphQLHandler(deps: GraphQLDeps) {
  const auth = createTokenAuth(deps.config, deps.log, deps.keys);
  const log = deps.log.child({ component: "graphql" });
  const allowed = new Set(deps.config.CORS_ORIGINS);
  const yoga = createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: "/graphql",
    maxRequestBodySize: MAX_GRAPHQL_BODY_BYTES,
    // Cross-origin browser access only for CORS_ORIGINS, never with credentials (the token is a header).
    cors: (request) => {
      const origin = request.headers.get("origin");
      if (!origin || !allowed.has(origin)) return false;
      return {
        origin: [origin],
        credentials: false,
        methods: ["GET", "POST", "OPTIONS"],
        allowedHeaders: ["authorization", "content-type", "accept", "x-request-id"],
        exposedHeaders: ["x-request-id"],
        maxAge: 600,
      };
    },
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
      authenticateFirst(auth),
      noEcho(),
      // Bounds on what one operation may ask for (depth, cost, aliases, tokens, directives).
      ...operationLimits({ blockFieldSuggestion: deps.config.NODE_ENV === "production" }),
      operationMetrics(deps.observeOperation),
      readRouting(deps.readDatabase),
      // Before requestGuards, which wraps whatever parser is set (its errors lose the body's echo).
      slicedJsonBodies(MAX_GRAPHQL_BODY_BYTES),
      requestGuards(),
      slicedVariables(),
      endSubscriptionsAtShutdown(deps.shutdown),
      {
        onRequest({ request, endResponse, fetchAPI }) {
          if (Number(request.headers.get("content-length")) > MAX_GRAPHQL_BODY_BYTES) {
            const body = JSON.stringify({
              errors: [
                {
                  message: `body larger than ${MAX_GRAPHQL_BODY_BYTES} bytes`,
                  extensions: { code: "REQUEST_ENTITY_TOO_LARGE" },
                },
              ],
            });
            endResponse(
              new fetchAPI.Response(body, {
                status: 413,
                headers: { "content-type": "application/json", connection: "close" },
              }),
            );
          }
        },
      },
    ],
    // Authentication fails the whole operation (no partial data, no introspection without a token).
    context: ({ request, connectionParams }) => {
      // HTTP and SSE: the Authorization header. WebSocket: connection_init's `authorization` (browsers
      // cannot set headers on a WebSocket). Never the query string.
      const header = connectionParams ? initToken(connectionParams) : (request?.headers.get("authorization") ?? null);
      const principal = auth.principalOf(header);
      if (!principal) throw unauthenticated();
      return createContext(deps, principal);
    },
  });
  authOf.set(yoga, auth);
  return yoga;
}

/** The token a graphql-ws client sent in connection_init: `{ authorization: "Bearer …" }`. */
function initToken(params: Record<string, unknown>): string | null {
  const value = params.authorization ?? params.Authorization;
  return typeof value === "string" ? value : null;
}

/**
 * Authentication before anything else is done with a request: no valid token → 401 UNAUTHENTICATED
 * without reading, parsing or validating the body (nothing of it is echoed, no field name can be probed,
 * no memory is spent on it). GraphiQL's page (a browser GET) and CORS preflights are answered earlier
 * by Yoga and carry no data.
 */
function authenticateFirst(auth: TokenAuth): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      if (request.method === "OPTIONS") {
        // A preflight from an origin not in CORS_ORIGINS (allowed ones were answered by Yoga's CORS).
        endResponse(new fetchAPI.Response(null, { status: 204, headers: { "content-length": "0" } }));
        return;
      }
      if (auth.roleOf(request.headers.get("authorization"))) return;
      const error = unauthenticated();
      const headers: Record<string, string> = {
        "www-authenticate": 'Bearer realm="bullseye"',
        "cache-control": "no-store",
      };
      const length = request.headers.get("content-length");
      const hasBody = request.method !== "GET" && request.method !== "HEAD";
      if (hasBody && (length === null || !(Number(length) <= UNAUTHENTICATED_BODY_BYTES))) headers.connection = "close";
      const payload = JSON.stringify({ errors: [{ message: error.message, extensions: { code: "UNAUTHENTICATED" } }] });
      const sse =
        (request.headers.get("accept") ?? "").includes("text/event-stream") &&
        !(request.headers.get("accept") ?? "").includes("json");
      endResponse(
        sse
          ? new fetchAPI.Response(`event: next\ndata: ${payload}\n\nevent: complete\ndata:\n\n`, {
              status: 401,
              headers: { ...headers, "content-type": "text/event-stream; charset=utf-8" },
            })
          : new fetchAPI.Response(payload, {
              status: 401,
              headers: { ...headers, "content-type": "application/json; charset=utf-8" },
            }),
      );
    },
  };
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

/**
 * graphql-ws (WebSocket) on the same path as HTTP/SSE, executed through Yoga's envelop (same plugins).
 * A socket must send a valid token in connection_init within WS_INIT_TIMEOUT_MS (else closed 4408);
 * no or an unknown token closes it 4401, a browser page from an origin not allowed (not this host, not
 * in CORS_ORIGINS) 4403. Open sockets per replica are bounded by SUBSCRIPTIONS_MAX. src/app.ts hands it
 * the upgrade requests for /graphql.
 */
export function createGraphQLWebSocket(
  yoga: GraphQLHandler,
  config: Pick<Config, "WS_INIT_TIMEOUT_MS" | "SUBSCRIPTIONS_MAX" | "CORS_ORIGINS">,
) {
  const auth = authOf.get(yoga);
  if (!auth) throw new Error("createGraphQLWebSocket needs a handler made by createGraphQLHandler");
  const allowed = new Set(config.CORS_ORIGINS);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (wss.clients.size >= config.SUBSCRIPTIONS_MAX) {
      socket.end(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
  };
  const handle = useServer(
    {
      connectionInitWaitTimeout: config.WS_INIT_TIMEOUT_MS,
      onConnect: (ctx) => {
        const origin = ctx.extra.request.headers.origin;
        if (origin && !allowed.has(origin) && !sameOrigin(origin, ctx.extra.request.headers.host)) {
          ctx.extra.socket.close(4403, "Forbidden");
          return false;
        }
        if (!auth.roleOf(initToken(ctx.connectionParams ?? {}))) {
          ctx.extra.socket.close(4401, "Unauthorized");
          return false;
        }
        return true;
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        const shortened = shortenResult(result);
        return shortened === result ? undefined : shortened;
      },
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
          return errors.length ? errors.map(shortenError) : args;
        } catch (error) {
          // A bad token or a syntax error is this operation's error, with its extensions.code as over
          // HTTP; thrown, graphql-ws would close the whole socket with 4500 and only the message.
          if (error instanceof GraphQLError) return [withoutHttpExtension(shortenError(error))];
          throw error;
        }
      },
    },
    wss,
  );
  return {
    handleUpgrade,
    /**
     * Sends every socket a close frame (1001 "going away") and takes no new one; resolves once every
     * socket has closed (a client answers the close frame) — see `terminate` for those that do not.
     */
    async close() {
      await handle.dispose();
    },
    /** Drops the sockets still open (their clients never answered the close frame). */
    terminate() {
      for (const socket of wss.clients) socket.terminate();
    },
  };
}

/** A page served by this very host (e.g. GraphiQL) may open a WebSocket without being in CORS_ORIGINS. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
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

// One log line per GraphQL request (admin traffic is low; delivery is never logged per request):
// request id (X-Request-Id in and out), operation, status, duration. Never the token or the variables.
import { randomUUID } from "node:crypto";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { Logger } from "../logger.ts";

const SAFE_ID = /^[\w.:-]{1,100}$/;

interface RequestInfo {
  id: string;
  started: number;
  operations: string[];
}

export function requestLog(log: Logger): Plugin {
  const requests = new WeakMap<Request, RequestInfo>();
  return {
    onRequest({ request }) {
      const incoming = request.headers.get("x-request-id");
      requests.set(request, {
        id: incoming && SAFE_ID.test(incoming) ? incoming : randomUUID(),
        started: performance.now(),
        operations: [],
      });
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const info = request ? requests.get(request) : undefined;
      const operation = getOperationAST(args.document, args.operationName);
      info?.operations.push(`${operation?.operation ?? "unknown"} ${operation?.name?.value ?? "anonymous"}`);
    },
    onResponse({ request, response }) {
      const info = requests.get(request);
      if (!info) return;
      response.headers.set("x-request-id", info.id);
      const url = new URL(request.url);
      log.info(
        {
          reqId: info.id,
          method: request.method,
          path: url.pathname,
          status: response.status,
          ms: Math.round(performance.now() - info.started),
          operations: info.operations,
        },
        "graphql request",
      );
    },
  };
}

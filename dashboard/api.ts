// The dashboard's only way to the server: the public GraphQL API at /graphql, with the bearer token
// the user signed in with. Queries over HTTP POST; subscriptions over GraphQL-over-SSE (fetch, so the
// token travels in the Authorization header, never in a URL). Every answer, or its absence, is reported
// to the hooks: that is how the page knows the replica is reachable and the token still accepted.

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string; fields?: Record<string, string>; revision?: number };
}

/** `code` is the server's extensions.code, or UNREACHABLE (no answer) / ABORTED (superseded). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly extensions: GraphQLErrorShape["extensions"] = {},
  ) {
    super(message);
  }

  /** Input path → problem, for BAD_USER_INPUT. */
  get fields(): Record<string, string> {
    return this.extensions?.fields ?? {};
  }
}

export interface ApiHooks {
  /** The replica answered (any HTTP answer, errors included). */
  contact(): void;
  /** No answer: network error, or a gateway's 502/503/504 instead of the replica. */
  unreachable(): void;
  /** The token was refused (the server restarted with another one, or it was revoked). */
  unauthenticated(message: string): void;
}

const UNREACHABLE_MESSAGE = "Cannot reach the server";

/** `ended` aborts every request of the session (sign-out, refused token). */
export function createApi(token: string, hooks: ApiHooks, ended: AbortSignal) {
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };

  async function post(body: string, accept: string, only?: AbortSignal): Promise<Response> {
    const signal = only ? AbortSignal.any([only, ended]) : ended;
    let res: Response;
    try {
      res = await fetch("/graphql", { method: "POST", headers: { ...headers, accept }, body, signal });
    } catch {
      if (signal.aborted) throw new ApiError("aborted", "ABORTED");
      hooks.unreachable();
      throw new ApiError(UNREACHABLE_MESSAGE, "UNREACHABLE");
    }
    const json = res.headers.get("content-type")?.includes("json") ?? false;
    if (!json && res.status >= 502 && res.status <= 504) {
      hooks.unreachable();
      throw new ApiError(UNREACHABLE_MESSAGE, "UNREACHABLE");
    }
    hooks.contact();
    return res;
  }

  function toError(errors: GraphQLErrorShape[] | undefined, status: number): ApiError {
    const first = errors?.[0];
    const code = first?.extensions?.code ?? (status === 401 ? "UNAUTHENTICATED" : undefined);
    const error = new ApiError(first?.message ?? `HTTP ${status}`, code, first?.extensions);
    if (code === "UNAUTHENTICATED") hooks.unauthenticated(error.message);
    return error;
  }

  /** The data, or throws the first error; with `partial`, data that came with errors is returned too. */
  async function query<T>(
    document: string,
    variables: Record<string, unknown> = {},
    options: { partial?: (errors: GraphQLErrorShape[]) => void; signal?: AbortSignal } = {},
  ): Promise<T> {
    const res = await post(
      JSON.stringify({ query: document, variables }),
      "application/graphql-response+json, application/json",
      options.signal,
    );
    let body: { data?: T | null; errors?: GraphQLErrorShape[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      if (options.signal?.aborted || ended.aborted) throw new ApiError("aborted", "ABORTED");
      throw new ApiError(`unreadable answer (HTTP ${res.status})`, undefined);
    }
    if (body.errors?.length && body.data && options.partial) options.partial(body.errors);
    else if (body.errors?.length || !body.data) throw toError(body.errors, res.status);
    return body.data as T;
  }

  /**
   * Streams a subscription's `next` payloads until the server completes it, the connection drops or
   * `signal` aborts. `onOpen` runs once the server accepted it. Resolves on a clean end; rejects when
   * the stream breaks (callers reconnect).
   */
  async function subscribe<T>(
    document: string,
    variables: Record<string, unknown>,
    handlers: { onOpen(): void; onData(data: T): void },
    signal: AbortSignal,
  ): Promise<void> {
    const res = await post(JSON.stringify({ query: document, variables }), "text/event-stream", signal);
    if (!res.ok || !res.body) {
      const body = (await res.json().catch(() => ({}))) as { errors?: GraphQLErrorShape[] };
      throw toError(body.errors, res.status);
    }
    handlers.onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      let chunk: ReadableStreamReadResult<string>;
      try {
        chunk = await reader.read();
      } catch {
        if (signal.aborted || ended.aborted) return;
        hooks.unreachable();
        throw new ApiError(UNREACHABLE_MESSAGE, "UNREACHABLE");
      }
      if (chunk.done) throw new ApiError("subscription stream ended", undefined);
      buffer += chunk.value;
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.name === "complete") return;
        if (event.name !== "next" || !event.data) continue;
        const payload = JSON.parse(event.data) as { data?: T; errors?: GraphQLErrorShape[] };
        if (payload.errors?.length) throw toError(payload.errors, 200);
        if (payload.data) handlers.onData(payload.data);
      }
    }
  }

  return { query, subscribe };
}

export type Api = ReturnType<typeof createApi>;

function parseEvent(block: string): { name: string; data: string } {
  let name = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) name = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return { name, data: data.join("\n") };
}

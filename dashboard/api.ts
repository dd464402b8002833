// The dashboard's only way to the server: the public GraphQL API at /graphql, with the bearer token
// the user signed in with. Queries over HTTP POST; subscriptions over GraphQL-over-SSE (fetch, so the
// token travels in the Authorization header, never in a URL).

export interface GraphQLErrorShape {
  message: string;
  extensions?: { code?: string };
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export function createApi(token: string) {
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };

  /** The data, or throws the first error; with `partial`, data that came with errors is returned too. */
  async function query<T>(
    document: string,
    variables: Record<string, unknown> = {},
    options: { partial?: (errors: GraphQLErrorShape[]) => void } = {},
  ): Promise<T> {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { ...headers, accept: "application/graphql-response+json, application/json" },
      body: JSON.stringify({ query: document, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: GraphQLErrorShape[] };
    const error = body.errors?.[0];
    if (error && body.data && options.partial) options.partial(body.errors ?? []);
    else if (error) throw new ApiError(error.message, error.extensions?.code);
    return body.data as T;
  }

  /**
   * Streams a subscription's `next` payloads until the server completes it, the connection drops or
   * `signal` aborts. Resolves on a clean end; rejects when the stream breaks (callers reconnect).
   */
  async function subscribe<T>(
    document: string,
    variables: Record<string, unknown>,
    onData: (data: T) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const res = await fetch("/graphql", {
      method: "POST",
      headers: { ...headers, accept: "text/event-stream" },
      body: JSON.stringify({ query: document, variables }),
      signal,
    });
    if (!res.ok || !res.body) throw new ApiError(`subscription failed: HTTP ${res.status}`, undefined);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new ApiError("subscription stream ended", undefined);
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const event = parseEvent(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        if (event.name === "complete") return;
        if (event.name !== "next" || !event.data) continue;
        const payload = JSON.parse(event.data) as { data?: T; errors?: GraphQLErrorShape[] };
        const error = payload.errors?.[0];
        if (error) throw new ApiError(error.message, error.extensions?.code);
        if (payload.data) onData(payload.data);
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

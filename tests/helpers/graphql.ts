// A minimal GraphQL-over-HTTP client for integration tests: POST /graphql with a bearer token.

/** Response data is loosely typed on purpose: the tests' assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Loose = Record<string, any>;

export interface GraphQLResponse<T = Loose> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Loose }[];
}

export const ADMIN_TOKEN = "admin-token-for-tests-0123456789";
export const VIEWER_TOKEN = "viewer-token-for-tests-0123456789";

export function graphqlClient(baseUrl: string, token: string | null = ADMIN_TOKEN) {
  return async function gql<T = Loose>(
    query: string,
    variables: Record<string, unknown> = {},
    options: { timeoutMs?: number } = {},
  ): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${baseUrl}/graphql`, {
      method: "POST",
      headers,
      body: JSON.stringify({ query, variables }),
      signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
    });
    const body = (await res.json()) as Omit<GraphQLResponse<T>, "status" | "headers">;
    return { status: res.status, headers: res.headers, ...body };
  };
}

/** The `extensions.code` of each error, in order. */
export const codes = (response: GraphQLResponse) => (response.errors ?? []).map((e) => e.extensions?.code);

/** GET /v1/delivery: the cids served and the index version that answered. */
export async function deliver(
  baseUrl: string,
  app: string,
  os: string,
  country: string,
  options: { timeoutMs?: number } = {},
) {
  const res = await fetch(`${baseUrl}/v1/delivery?${new URLSearchParams({ app, os, country })}`, {
    signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
  });
  const cids = res.status === 200 ? ((await res.json()) as { cid: string }[]).map((a) => a.cid) : [];
  return { status: res.status, version: Number(res.headers.get("x-index-version")), cids };
}

// No error echoes the request: graphql-js quotes what it could not use ("Variable "$n" got invalid
// value "…"", "Cannot query field "…"", "Int cannot represent non-integer value: "…""), whole — a
// 200 kB variable came back twice in one 400 kB answer. Quoted text is cut to a prefix and every
// message to a bounded length, over HTTP, SSE and WebSocket alike.
import { type ExecutionResult, type FormattedExecutionResult, GraphQLError } from "graphql";
import { isAsyncIterable, type Plugin } from "graphql-yoga";

const MAX_QUOTED = 40;
const MAX_MESSAGE = 300;

export function withoutEcho(message: string): string {
  const cut = message.replace(/"((?:[^"\\]|\\.)*)"/g, (whole, inner: string) =>
    inner.length > MAX_QUOTED ? `"${inner.slice(0, MAX_QUOTED)}…"` : whole,
  );
  return cut.length > MAX_MESSAGE ? `${cut.slice(0, MAX_MESSAGE)}…` : cut;
}

export function shortenError<E extends { message: string }>(error: E): E {
  const message = withoutEcho(error.message);
  if (message === error.message) return error;
  if (error instanceof GraphQLError) {
    return new GraphQLError(message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: error.extensions,
    }) as unknown as E;
  }
  return { ...error, message };
}

export function shortenResult<R extends ExecutionResult | FormattedExecutionResult>(result: R): R {
  if (!result.errors?.some((error) => withoutEcho(error.message) !== error.message)) return result;
  return { ...result, errors: result.errors.map(shortenError) };
}

/** Yoga: every HTTP and SSE answer. */
export function noEcho(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) return;
      setResult(Array.isArray(result) ? result.map(shortenResult) : shortenResult(result as ExecutionResult));
    },
  };
}

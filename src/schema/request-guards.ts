// Malformed /graphql requests are the client's error (4xx, coded), never "Unexpected error.":
// - GET/form parameters whose `variables`/`extensions` are not JSON (Yoga's parser throws a bare
//   SyntaxError there, which would be masked as INTERNAL_SERVER_ERROR);
// - documents nested so deeply that graphql-js's recursive parser overflows the stack (RangeError);
// - a POST of a content type Yoga cannot parse (an empty 415 otherwise).
import { GraphQLError, type Source } from "graphql";
import { createGraphQLError, type Plugin } from "graphql-yoga";

/** Brackets ({, [, () open at once; legitimate operations (introspection included) stay far below. */
export const MAX_DOCUMENT_NESTING = 128;

export function requestGuards(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, endResponse, fetchAPI }) {
      if (!requestParser) {
        // Yoga answers a POST of a content type it cannot parse with an empty 415.
        if (request.method === "POST") endResponse(unsupportedMediaType(request, fetchAPI));
        return;
      }
      const parse = requestParser;
      setRequestParser(async (request) => {
        try {
          return await parse(request);
        } catch (error) {
          // Yoga's "POST body sent invalid JSON." carries the parser's message, which quotes the body.
          if (error instanceof GraphQLError) throw withoutOriginalError(error);
          throw createGraphQLError("malformed GraphQL request parameters (variables and extensions must be JSON)", {
            extensions: { code: "BAD_REQUEST", http: { status: 400 } },
          });
        }
      });
    },
    onParse({ parseFn, setParseFn }) {
      setParseFn((source, options) => {
        const depth = nestingDepth(typeof source === "string" ? source : (source as Source).body);
        if (depth > MAX_DOCUMENT_NESTING) {
          throw createGraphQLError(`document nested ${depth} levels deep; at most ${MAX_DOCUMENT_NESTING}`, {
            extensions: { code: "GRAPHQL_PARSE_FAILED" },
          });
        }
        return parseFn(source, options);
      });
    },
  };
}

function withoutOriginalError(error: GraphQLError): GraphQLError {
  if (!("originalError" in error.extensions)) return error;
  const { originalError: _dropped, ...extensions } = error.extensions;
  return createGraphQLError(error.message, { extensions });
}

function unsupportedMediaType(request: Request, fetchAPI: { Response: typeof Response }): Response {
  const type = request.headers.get("content-type");
  const message = `unsupported content-type ${type === null ? "(none)" : JSON.stringify(type.slice(0, 100))}; send application/json`;
  const body = JSON.stringify({ errors: [{ message, extensions: { code: "BAD_REQUEST" } }] });
  return new fetchAPI.Response(body, { status: 415, headers: { "content-type": "application/json; charset=utf-8" } });
}

/** The deepest bracket nesting outside strings and comments (unbalanced input is the parser's to report). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      if (depth > 0) depth--;
    } else if (c === 0x23) {
      // # comment to the end of the line
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== 0x0a && text.charCodeAt(i + 1) !== 0x0d) i++;
    } else if (c === 0x22) {
      if (text.startsWith('""', i + 1)) {
        // """block string""": ends at the next """ not escaped as \"""
        i += 3;
        while (i < text.length && !(text.startsWith('"""', i) && text.charCodeAt(i - 1) !== 0x5c)) i++;
        i += 2;
      } else {
        // "string": ends at an unescaped " or the end of the line
        i++;
        while (i < text.length) {
          const d = text.charCodeAt(i);
          if (d === 0x5c) i += 2;
          else if (d === 0x22 || d === 0x0a || d === 0x0d) break;
          else i++;
        }
      }
    }
  }
  return max;
}

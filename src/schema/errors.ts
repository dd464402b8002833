// Every expected failure of the GraphQL API, as a GraphQL error with `extensions.code` (docs/CONTRACT.md §4),
// and the one place that turns Prisma/driver errors into those codes. Anything else stays masked.

import { GraphQLError } from "graphql";
import { createGraphQLError } from "graphql-yoga";
import { Prisma } from "../generated/prisma/client.ts";

export type ErrorCode = "UNAUTHENTICATED" | "FORBIDDEN" | "BAD_USER_INPUT" | "NOT_FOUND" | "CONFLICT" | "UNAVAILABLE";

/** Input path (`input.targeting.include.countries.2`) → what is wrong with it. */
export type FieldErrors = Record<string, string>;

function coded(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return createGraphQLError(message, { extensions: { code, ...extensions } });
}

export const unauthenticated = () =>
  coded("UNAUTHENTICATED", "missing or unknown bearer token", {
    http: { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="bullseye"' } },
  });
export const forbidden = (message: string) => coded("FORBIDDEN", message);
export const notFound = (message: string) => coded("NOT_FOUND", message);
export const conflict = (message: string, extensions: Record<string, unknown> = {}) =>
  coded("CONFLICT", message, extensions);
export const unavailable = (
  message = "the database is unavailable; try again",
  extensions: Record<string, unknown> = {},
) => coded("UNAVAILABLE", message, extensions);

export function badUserInput(fields: FieldErrors): GraphQLError {
  const names = Object.keys(fields);
  const shown = names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
  return coded("BAD_USER_INPUT", `invalid input: ${shown}`, { fields });
}

// Driver-adapter error kinds and SQLSTATE classes that mean "cannot reach or use the database now".
const UNREACHABLE_KINDS = new Set([
  "DatabaseNotReachable",
  "DatabaseDoesNotExist",
  "ConnectionClosed",
  "SocketTimeout",
  "TlsConnectionError",
  "AuthenticationFailed",
  "DatabaseAccessDenied",
  "TooManyConnections",
]);
// 57014: a statement cancelled by statement_timeout (the server is too slow or stuck on a lock); 53xxx:
// out of resources (connections, memory, disk).
const isUnavailableSqlState = (code: string) =>
  code.startsWith("08") ||
  code.startsWith("57P") ||
  code === "57014" ||
  code.startsWith("53") ||
  code === "55P03" ||
  code === "3D000";
// pg's own errors without SQLSTATE: a query not answered within query_timeout (a frozen server), no
// pool connection in time, a connection that failed or was cut.
const UNREACHABLE_MESSAGE =
  /Query read timeout|timeout exceeded when trying to connect|Connection terminated|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|connect|terminat|closed/i;

interface AdapterCause {
  kind?: string;
  originalCode?: string;
}

function adapterCause(error: Prisma.PrismaClientKnownRequestError): AdapterCause | undefined {
  const meta = error.meta as { driverAdapterError?: { cause?: AdapterCause } } | undefined;
  return meta?.driverAdapterError?.cause;
}

export const isUniqueViolation = (error: unknown) =>
  error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";

/** A coded error for failures we expect from the database, or undefined for real bugs. */
export function fromDatabaseError(error: unknown): GraphQLError | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = adapterCause(error);
    if (error.code === "P2002") return conflict("a record with this id already exists");
    if (error.code === "P2025") return notFound("the record does not exist");
    if (error.code === "P2034" || cause?.originalCode === "40001" || cause?.originalCode === "40P01") {
      return conflict("a concurrent change conflicted with this one; retry");
    }
    if (error.code.startsWith("P1") || error.code === "P2024" || error.code === "P2028") return unavailable();
    if (cause?.kind && UNREACHABLE_KINDS.has(cause.kind)) return unavailable();
    if (cause?.originalCode && isUnavailableSqlState(cause.originalCode)) return unavailable();
    return undefined;
  }
  if (error instanceof Prisma.PrismaClientInitializationError) return unavailable();
  if (error instanceof Prisma.PrismaClientUnknownRequestError && UNREACHABLE_MESSAGE.test(error.message)) {
    return unavailable();
  }
  // The driver's own errors may reach us unwrapped (the adapter rethrows errors without a SQLSTATE).
  if (error instanceof Error && !(error instanceof GraphQLError) && isDriverError(error)) return unavailable();
  return undefined;
}

function isDriverError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ETIMEDOUT, …
  return /^(Query read timeout|timeout exceeded when trying to connect|Connection terminated)/i.test(error.message);
}

/**
 * Yoga's `maskedErrors.maskError`: GraphQL's own errors (validation, our coded ones) pass through,
 * database failures become coded errors, anything else becomes "Unexpected error." — never shown (no
 * stack, no SQL). Yoga logs every error this replaces.
 */
export function maskError(error: unknown, message: string, isDev = false): Error {
  const original = originalOf(error);
  if (original instanceof GraphQLError) return error as Error;
  const located = error instanceof GraphQLError ? error : undefined;
  const mapped = fromDatabaseError(original);
  const extensions = mapped?.extensions ?? { code: "INTERNAL_SERVER_ERROR" };
  // Details only for NODE_ENV=development; the default (production) shows none.
  const details =
    isDev && original instanceof Error ? { originalError: { message: original.message, stack: original.stack } } : {};
  return createGraphQLError(mapped?.message ?? message, {
    nodes: located?.nodes,
    path: located?.path,
    extensions: { ...extensions, ...details },
  });
}

/** The innermost error: graphql-js wraps resolver errors, possibly more than once. */
function originalOf(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

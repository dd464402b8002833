// DateTime: an instant as an ISO 8601 string with an explicit offset ("2026-05-01T00:00:00Z").
import { Kind } from "graphql";
import { builder } from "./builder.ts";

// A date alone or a local time without offset would be read in the server's time zone: refuse both.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A bad value becomes an Invalid Date rather than an error here: input validation (validation.ts) then
 * reports it with its input path, together with every other bad field.
 */
function parseInstant(value: unknown): Date {
  return typeof value === "string" && ISO_INSTANT.test(value) ? new Date(value) : new Date(Number.NaN);
}

builder.scalarType("DateTime", {
  description: "An instant, as an ISO 8601 string with offset (e.g. 2026-05-01T12:00:00Z)",
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: parseInstant,
  parseLiteral: (node) => parseInstant(node.kind === Kind.STRING ? node.value : undefined),
});

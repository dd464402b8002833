// schema.graphql (the committed SDL) must be what the server builds: after a schema change, run
// `npm run schema:print` and commit the file.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILE, schemaFileContent } from "../../scripts/print-schema.ts";
import { schema } from "../../src/schema/index.ts";

// Pothos (external to Vite) loads graphql's CommonJS build; use the same instance to print.
const { printSchema } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

describe("schema.graphql", () => {
  it("is the SDL of the built schema (else: npm run schema:print)", () => {
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    const built = schemaFileContent(printSchema(schema));
    expect(committed, "schema.graphql is stale: run `npm run schema:print` and commit it").toBe(built);
  });
});

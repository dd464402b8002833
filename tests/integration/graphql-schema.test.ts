// The printed GraphQL schema is snapshotted, so every change to the public API shows up in review.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { schema } from "../../src/schema/index.ts";

// Pothos (external to Vite) loads graphql's CommonJS build; a plain `import` here would get its ESM
// build, a second graphql instance that refuses the schema's types.
const { printSchema } = createRequire(import.meta.url)("graphql") as typeof import("graphql");

describe("GraphQL schema", () => {
  it("matches the reviewed snapshot (CONTRACT §4 names)", async () => {
    await expect(printSchema(schema)).toMatchFileSnapshot("./__snapshots__/graphql-schema.graphql");
  });

  it("has every query and mutation the contract names", () => {
    expect(Object.keys(schema.getQueryType()?.getFields() ?? {})).toEqual(
      expect.arrayContaining([
        "campaigns",
        "campaign",
        "categories",
        "category",
        "delivery",
        "indexStatus",
        "ruleChanges",
      ]),
    );
    expect(Object.keys(schema.getMutationType()?.getFields() ?? {})).toEqual(
      expect.arrayContaining([
        "createCampaign",
        "updateCampaign",
        "deleteCampaign",
        "importCampaigns",
        "upsertCategory",
        "deleteCategory",
      ]),
    );
  });
});

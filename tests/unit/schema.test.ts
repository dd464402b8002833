// The public GraphQL API: schema.graphql (the committed SDL, reviewed like code) must be exactly what
// the server builds — after a schema change run `npm run schema:print` and commit it — and it must hold
// every name docs/CONTRACT.md fixes.
import { readFileSync } from "node:fs";
import { printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILE, schemaFileContent } from "../../scripts/print-schema.ts";
import { schema } from "../../src/schema/index.ts";

describe("GraphQL schema", () => {
  it("is the committed schema.graphql (else: npm run schema:print)", () => {
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    const built = schemaFileContent(printSchema(schema));
    expect(committed, "schema.graphql is stale: run `npm run schema:print` and commit it").toBe(built);
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
        "apiKeys",
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
        "createApiKey",
        "revokeApiKey",
        "revertCampaign",
      ]),
    );
    expect(Object.keys(schema.getSubscriptionType()?.getFields() ?? {})).toEqual(["ruleChanges"]);
  });

  it("accepts a reason on every mutation (the audit trail)", () => {
    const mutations = Object.values(schema.getMutationType()?.getFields() ?? {});
    const withoutReason = mutations.filter((field) => !field.args.some((arg) => arg.name === "reason"));
    expect(withoutReason.map((field) => field.name)).toEqual([]);
  });
});

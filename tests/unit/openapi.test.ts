// docs/openapi.json (served at /v1/openapi.json) is a valid OpenAPI 3.1 document whose references all
// resolve, and it describes every row of the delivery contract (docs/CONTRACT.md "Delivery").
// tests/integration/http-app.test.ts checks real answers against its schemas.
import { readFileSync } from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";

const FILE = path.resolve(import.meta.dirname, "../../docs/openapi.json");

interface Operation {
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
}

async function dereferenced() {
  const validator = new Validator();
  const result = await validator.validate(FILE);
  return {
    validator,
    result,
    document: validator.resolveRefs() as { paths: Record<string, Record<string, Operation>> },
  };
}

describe("docs/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document with every $ref resolvable", async () => {
    const { validator, result } = await dereferenced();
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(JSON.parse(readFileSync(FILE, "utf8")).openapi).toMatch(/^3\.1\./);
  });

  it("is checked by a validator that rejects a broken document", async () => {
    const broken = { openapi: "3.1.0", info: { title: "x" }, paths: { "/a": { get: { responses: 7 } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it("documents every delivery answer: 200, 204, 400, 503 for GET and POST, 413 for POST, 405 otherwise", async () => {
    const { document } = await dereferenced();
    const delivery = document.paths["/v1/delivery"]!;
    expect(Object.keys(delivery.get!.responses).sort()).toEqual(["200", "204", "400", "503"]);
    expect(Object.keys(delivery.post!.responses).sort()).toEqual(["200", "204", "400", "413", "503"]);
    for (const method of ["put", "patch", "delete", "options"]) {
      expect(Object.keys(delivery[method]!.responses)).toEqual(["405"]);
      expect(delivery[method]!.responses["405"]!.headers).toHaveProperty("Allow");
    }
    for (const method of ["get", "post", "put"]) {
      for (const [status, response] of Object.entries(delivery[method]!.responses)) {
        expect(Object.keys(response.headers ?? {}), `${method} ${status}`).toEqual(
          expect.arrayContaining(["X-Index-Version", "Cache-Control"]),
        );
      }
    }
    expect(delivery.get!.parameters?.map((p) => [p.name, p.in, p.required])).toEqual([
      ["app", "query", true],
      ["os", "query", true],
      ["country", "query", true],
    ]);
    expect(delivery.post!.requestBody?.content["application/json"]?.schema.required).toEqual(["app", "os", "country"]);
  });

  it("documents /healthz, /readyz (200 and 503) and itself", async () => {
    const { document } = await dereferenced();
    expect(Object.keys(document.paths["/healthz"]!.get!.responses)).toEqual(["200"]);
    expect(Object.keys(document.paths["/readyz"]!.get!.responses).sort()).toEqual(["200", "503"]);
    expect(document.paths).toHaveProperty("/v1/openapi.json");
  });
});

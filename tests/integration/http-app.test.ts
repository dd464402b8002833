// The HTTP layer in-process (src/app.ts over a demo snapshot, no database): the error boundary, the
// OpenAPI document it serves, and real delivery answers checked against that document's schemas.
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import openapi from "../../docs/openapi.json" with { type: "json" };
import { createApp } from "../../src/app.ts";
import { TargetingSnapshot } from "../../src/delivery/snapshot.ts";
import type { Logger } from "../../src/logger.ts";
import { demoData } from "../../src/seed/demo.ts";

const logs: Record<string, unknown>[] = [];
const log = pino(
  { level: "info" },
  new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()));
      done();
    },
  }),
) as unknown as Logger;

let server: Server;
let base: string;

beforeAll(async () => {
  const snapshot = TargetingSnapshot.build(7, demoData.campaigns, demoData.categories);
  server = createApp({
    log,
    index: { snapshot },
    readiness: () => ({ ready: true, detail: { version: 7 } }),
    routes: {
      "/boom": () => {
        throw new Error("synchronous bug");
      },
      "/reject": async () => {
        await Promise.resolve();
        throw new Error("asynchronous bug");
      },
      "/half": (_req, res) => {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.write("partial ");
        throw new Error("bug after the headers went out");
      },
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

/** A keep-alive agent with one socket: the request after a failure reuses the same connection when it can. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    http
      .get(`${base}${path}`, { agent, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

describe("error boundary", () => {
  it("answers a synchronous throw with a JSON 500 and its request id, logs it, and serves the next request", async () => {
    const res = await get("/boom");
    expect(res.status).toBe(500);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { error: string; reqId: string };
    expect(body).toEqual({ error: "internal error", reqId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(res.headers["x-request-id"]).toBe(body.reqId);
    expect(res.body).not.toContain("synchronous bug");
    const line = logs.find((entry) => entry.reqId === body.reqId);
    expect(line).toMatchObject({
      level: 50,
      msg: "request failed",
      path: "/boom",
      err: { message: "synchronous bug" },
    });

    const next = await get("/v1/delivery?app=candycrush&os=ios&country=CA");
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body)).toHaveLength(2);
  });

  it("answers a rejected promise the same way, with the caller's X-Request-Id", async () => {
    const res = await get("/reject", { "x-request-id": "trace-42" });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ error: "internal error", reqId: "trace-42" });
    expect(logs.find((entry) => entry.reqId === "trace-42")).toMatchObject({ err: { message: "asynchronous bug" } });
    expect((await get("/healthz")).status).toBe(200);
  });

  it("cuts a response whose headers were already sent (never passes half a body off as whole), then serves", async () => {
    await expect(get("/half")).rejects.toThrow();
    expect(
      logs.some((entry) => (entry.err as { message?: string })?.message === "bug after the headers went out"),
    ).toBe(true);
    expect((await get("/healthz")).status).toBe(200);
  });

  it("ignores an X-Request-Id that is not a plain token", async () => {
    const res = await get("/boom", { "x-request-id": "a b\u00e9<script>" });
    expect(JSON.parse(res.body).reqId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("GET /v1/openapi.json", () => {
  it("serves docs/openapi.json", async () => {
    const res = await get("/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual(openapi);
  });
});

describe("delivery answers match the OpenAPI document", () => {
  let document: {
    paths: Record<
      string,
      Record<
        string,
        {
          responses: Record<
            string,
            { headers?: Record<string, { schema: object }>; content?: Record<string, { schema: object }> }
          >;
        }
      >
    >;
  };
  const ajv = new Ajv2020({ strict: false, validateFormats: false });

  beforeAll(async () => {
    const validator = new Validator();
    expect((await validator.validate(structuredClone(openapi))).valid).toBe(true);
    document = validator.resolveRefs() as typeof document;
  });

  /** The answer conforms to the documented response for its status: body schema and required headers. */
  async function conforms(method: string, path: string, init: RequestInit = {}) {
    const res = await fetch(`${base}${path}`, { method, ...init });
    const operation = document.paths["/v1/delivery"]?.[method.toLowerCase()];
    const documented = operation?.responses[String(res.status)];
    expect(documented, `${method} ${path} → ${res.status} is documented`).toBeDefined();
    for (const [name, header] of Object.entries(documented?.headers ?? {})) {
      const value = res.headers.get(name);
      expect(value, `${name} header`).not.toBeNull();
      expect(ajv.validate(header.schema, value), `${name}: ${value}`).toBe(true);
    }
    const schema = documented?.content?.["application/json"]?.schema;
    const text = await res.text();
    if (schema) expect(ajv.validate(schema, JSON.parse(text)), `${text} ${ajv.errorsText()}`).toBe(true);
    else expect(text).toBe("");
    return res.status;
  }

  const post = (body: string): RequestInit => ({ body, headers: { "content-type": "application/json" } });

  it.each([
    ["GET", "/v1/delivery?app=candycrush&os=ios&country=Canada", 200, {}],
    ["GET", "/v1/delivery?app=spotify&os=web&country=CN", 204, {}],
    ["GET", "/v1/delivery?os=ios", 400, {}],
    ["POST", "/v1/delivery", 200, post('{"app":"candycrush","os":"ios","country":"CA"}')],
    ["POST", "/v1/delivery", 204, post('{"app":"spotify","os":"web","country":"CN"}')],
    ["POST", "/v1/delivery", 400, post('{"app":"x","country":"Atlantis"}')],
    ["POST", "/v1/delivery", 400, post("[1]")],
    ["POST", "/v1/delivery", 400, post("{not json")],
    ["POST", "/v1/delivery", 413, post(JSON.stringify({ pad: "x".repeat(5000) }))],
    ["PUT", "/v1/delivery", 405, {}],
    ["DELETE", "/v1/delivery", 405, {}],
  ] as const)("%s %s → %i as documented", async (method, path, status, init) => {
    expect(await conforms(method, path, init)).toBe(status);
  });
});

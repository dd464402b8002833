// Clients without a valid token get nothing out of /graphql and cost it nothing: 401 before the body is
// read (any size, nothing echoed, no validation to probe field names), WebSockets closed unless
// connection_init carries a valid token (and closed when it never comes), CORS only for configured
// origins and never with credentials. An authenticated client's malformed body is not echoed either.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const ALLOWED = "https://admin.example.com";
let database: TestDatabase;
let server: RunningServer;
let withCors: RunningServer;

beforeAll(async () => {
  database = await createTestDatabase();
  const env = {
    DATABASE_URL: database.url,
    ADMIN_TOKEN,
    VIEWER_TOKEN,
    NODE_ENV: "production",
    WS_INIT_TIMEOUT_MS: "500",
  };
  [server, withCors] = await Promise.all([
    startServer({ env }),
    startServer({ env: { ...env, CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } }),
  ]);
});

afterAll(async () => {
  await Promise.all([server?.stop(), withCors?.stop()]);
  await database?.drop();
});

const rss = async (target: RunningServer) => {
  const text = await (await fetch(`${target.url}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(text)?.[1] ?? 0);
};

describe("unauthenticated /graphql", () => {
  it("a 24 MB invalid-JSON body: 401 UNAUTHENTICATED at once, connection closed, nothing echoed", async () => {
    const marker = "ECHO-MARKER-";
    const declared = 24 * 1024 * 1024;
    const start = Buffer.from(`{"query": "${marker}${"x".repeat(1024 * 1024)}`);
    const before = await rss(server);
    // Raw sockets: each declares 24 MB, sends the first MB, and reads what comes back without sending
    // the rest — the answer must come before the body (an HTTP client library would stop reading when
    // its upload is cut, hiding the response).
    const answers = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<string>((resolve, reject) => {
            const socket = net.connect(server.port, "127.0.0.1");
            let received = "";
            socket.on("data", (chunk) => {
              received += chunk.toString("latin1");
            });
            socket.on("error", () => undefined); // the server closes while we still hold unsent bytes
            socket.on("close", () => resolve(received));
            socket.setTimeout(10_000, () => reject(new Error(`no answer in 10 s: ${received.slice(0, 200)}`)));
            socket.write(
              `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
            );
            socket.write(start);
          }),
      ),
    );
    const after = await rss(server);
    console.log(
      `8 × 24 MB unauthenticated bodies: RSS ${Math.round(before / 2 ** 20)} → ${Math.round(after / 2 ** 20)} MB`,
    );
    for (const answer of answers) {
      const [head = "", text = ""] = answer.split("\r\n\r\n");
      expect(head.split("\r\n")[0]).toBe("HTTP/1.1 401 Unauthorized");
      expect(head.toLowerCase()).toContain("connection: close");
      expect(text.length).toBeLessThan(500);
      expect(text).not.toContain(marker);
      expect(JSON.parse(text).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
  });

  it("answers 401, not validation errors, to an invalid operation (no field-name probing)", async () => {
    for (const query of ["{ nope }", "{ campaigns { secretField } }", "{ campaigns { id ", "mutation { x }"]) {
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ query }),
      });
      const text = await res.text();
      expect(res.status, query).toBe(401);
      expect(JSON.parse(text)).toEqual({
        errors: [{ message: "missing or unknown bearer token", extensions: { code: "UNAUTHENTICATED" } }],
      });
    }
  });

  it("small bodies keep the connection; GraphiQL's page is still served to a browser", async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: "{ indexStatus { version } }" }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("connection")).not.toBe("close");
    await res.text();
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
  });

  it("a chunked body without a token is answered before it is sent whole", async () => {
    const response = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(server.port, "127.0.0.1", () => {
        // Headers and a first chunk; the rest of the body never comes.
        socket.write(
          "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
            `10\r\n{"query": "{ x }\r\n`,
        );
      });
      let data = "";
      socket.on("data", (chunk) => {
        data += chunk.toString();
        if (data.includes("\r\n\r\n") && data.includes("UNAUTHENTICATED")) {
          socket.destroy();
          resolve(data);
        }
      });
      socket.on("error", reject);
      setTimeout(() => reject(new Error(`no answer: ${data}`)), 10_000).unref();
    });
    expect(response).toMatch(/^HTTP\/1\.1 401/);
    expect(response).toMatch(/connection: close/i);
  });
});

describe("an authenticated malformed body", () => {
  it("errors quote at most a short prefix of what they could not use (variables, fields, literals)", async () => {
    const big = `BIG${"q".repeat(200_000)}`;
    const cases: [string, Record<string, unknown>][] = [
      ["query($n: Int) { campaigns(first: $n) { id } }", { n: big }],
      ["query($s: CampaignStatus) { campaigns(status: $s) { id } }", { s: big }],
      [`{ campaigns(first: "${big}") { id } }`, {}],
      [`{ ${big} }`, {}],
    ];
    for (const [query, variables] of cases) {
      const res = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      expect(res.status, query.slice(0, 40)).toBeLessThan(500);
      expect(text.length, query.slice(0, 40)).toBeLessThan(1_000);
      expect(text).not.toContain("q".repeat(100));
    }
  });

  it("is a BAD_REQUEST that echoes nothing of the body", async () => {
    const marker = "AUTH-ECHO-MARKER";
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${ADMIN_TOKEN}`,
      },
      body: `{"query": "${marker}${"z".repeat(100_000)}`,
    });
    const text = await res.text();
    expect(res.status).toBeLessThan(500);
    expect(JSON.parse(text).errors[0].extensions.code).toBe("BAD_REQUEST");
    expect(text).not.toContain(marker);
    expect(text).not.toContain("zzzz");
    expect(text.length).toBeLessThan(500);
  });
});

// ---------------------------------------------------------------------------------------------------

/** Opens a graphql-ws socket, sends `init` (or nothing), resolves with the close code or "ack". */
function wsOutcome(init: unknown | undefined, headers: Record<string, string> = {}): Promise<number | "ack"> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws", { headers });
    ws.on("open", () => {
      if (init !== undefined) ws.send(JSON.stringify({ type: "connection_init", payload: init }));
    });
    ws.on("message", (data) => {
      if (JSON.parse(String(data)).type === "connection_ack") {
        resolve("ack");
        ws.close();
      }
    });
    ws.on("close", (code) => resolve(code));
    ws.on("error", reject);
  });
}

describe("WebSocket", () => {
  it("is closed 4408 when no connection_init comes in time", async () => {
    expect(await wsOutcome(undefined)).toBe(4408);
  });

  it("is closed 4401 without a valid token in connection_init, even with one in the upgrade header", async () => {
    expect(await wsOutcome({})).toBe(4401);
    expect(await wsOutcome({ authorization: "Bearer not-a-token" })).toBe(4401);
    expect(await wsOutcome({}, { authorization: `Bearer ${ADMIN_TOKEN}` })).toBe(4401);
  });

  it("is closed 4403 for a page from another origin, acknowledged for a valid token", async () => {
    const init = { authorization: `Bearer ${VIEWER_TOKEN}` };
    expect(await wsOutcome(init, { origin: "https://evil.example" })).toBe(4403);
    expect(await wsOutcome(init)).toBe("ack");
    expect(await wsOutcome(init, { origin: server.url })).toBe("ack");
  });
});

describe("CORS", () => {
  const preflight = (target: RunningServer, origin: string) =>
    fetch(`${target.url}/graphql`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

  it("by default allows no origin and never credentials", async () => {
    const res = await preflight(server, "https://evil.example");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const post = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: "{ indexStatus { version } }" }),
    });
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows exactly the CORS_ORIGINS, without credentials", async () => {
    const ok = await preflight(withCors, ALLOWED);
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    expect(ok.headers.get("access-control-allow-credentials")).toBeNull();
    const post = await fetch(`${withCors.url}/graphql`, {
      method: "POST",
      headers: { origin: ALLOWED, "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ query: "{ indexStatus { version } }" }),
    });
    expect(post.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    expect(post.headers.get("access-control-allow-credentials")).toBeNull();
    const other = await preflight(withCors, "https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});

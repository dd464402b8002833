// Limits on what one GraphQL operation may ask for, and the one log line each GraphQL request leaves.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, graphqlClient } from "../helpers/graphql.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

let database: TestDatabase;
let server: RunningServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startServer({ env: { DATABASE_URL: database.url, ADMIN_TOKEN } });
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

const DIMS = "apps countries os categories";
const FULL_CAMPAIGN = `id name imageUrl cta status priority startsAt endsAt revision createdAt updatedAt
  targeting { include { ${DIMS} } exclude { ${DIMS} } } stats { servedLastMinute servedLastHour series(minutes: 60) }`;

/** A refusal by a documented limit: coded, no data, no "Syntax Error", names the limit. */
function expectLimit(res: Awaited<ReturnType<ReturnType<typeof graphqlClient>>>, limit: string) {
  expect(res.status).toBeLessThan(500);
  expect(res.data ?? null).toBeNull();
  expect(res.errors).toHaveLength(1);
  expect(res.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_TOO_COMPLEX", limit });
  expect(res.errors?.[0]?.message).not.toMatch(/syntax error/i);
}

describe("operation limits", () => {
  it("refuses too many aliases", async () => {
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: indexStatus { version }`).join(" ");
    const res = await graphqlClient(server.url)(`{ ${aliases} }`);
    expectLimit(res, "aliases");
    expect(res.errors?.[0]?.message).toMatch(/aliases/i);
    const fifteen = Array.from({ length: 15 }, (_, i) => `a${i}: indexStatus { version }`).join(" ");
    expect((await graphqlClient(server.url)(`{ ${fifteen} }`)).errors).toBeUndefined();
  });

  it("admits the largest documented page with everything a campaign has: campaigns(first: 500), literal or variable", async () => {
    const gql = graphqlClient(server.url);
    const created =
      await gql(`mutation { createCampaign(input: { id: "big-page", name: "B", imageUrl: "https://x.example/b.png",
      cta: "Go", targeting: { include: { countries: ["US"], os: ["ios"] }, exclude: { apps: ["x"] } } }) { version } }`);
    expect(created.errors).toBeUndefined();
    const literal = await gql(`{ campaigns(first: 500) { ${FULL_CAMPAIGN} } }`);
    expect(literal.errors).toBeUndefined();
    expect(literal.data?.campaigns).toHaveLength(1);
    const variable = await gql(`query($n: Int) { campaigns(first: $n) { ${FULL_CAMPAIGN} } }`, { n: 500 });
    expect(variable.errors).toBeUndefined();
    const changes = await gql("{ ruleChanges(sinceVersion: 0, first: 500) { version kind campaignId categoryId at } }");
    expect(changes.errors).toBeUndefined();
  });

  it("prices pages by their size: ten pages of 500 in one operation are refused with a coded cost error", async () => {
    const gql = graphqlClient(server.url);
    // Ten pages of 500 campaigns with full targeting in one operation (aliases within their limit).
    const pages = Array.from({ length: 10 }, (_, i) => `p${i}: campaigns(first: 500) { ${FULL_CAMPAIGN} }`).join(" ");
    const res = await gql(`{ ${pages} }`);
    expectLimit(res, "cost");
    expect(res.errors?.[0]?.extensions?.max).toBe(5000);
    // A variable page size cannot hide the cost.
    const hidden = await gql(
      `query($n: Int) { ${Array.from({ length: 10 }, (_, i) => `p${i}: campaigns(first: $n) { ${FULL_CAMPAIGN} }`).join(" ")} }`,
      { n: 1 },
    );
    expectLimit(hidden, "cost");
  });

  it("admits depth 12 and refuses depth 13 with a coded error", async () => {
    const gql = graphqlClient(server.url);
    // Each inline fragment is a level, as the limit counts them: indexStatus { version } under n − 2 of them.
    const atDepth = (n: number) => `${"{ ... on Query ".repeat(n - 2)}{ indexStatus { version } }${" }".repeat(n - 2)}`;
    const twelve = await gql(atDepth(12));
    expect(twelve.errors).toBeUndefined();
    expect(twelve.data?.indexStatus.version).toBeGreaterThanOrEqual(0);
    const thirteen = await gql(atDepth(13));
    expectLimit(thirteen, "depth");
    expect(thirteen.errors?.[0]?.message).toMatch(/depth limit of 12/);
  });

  it("refuses more than 5,000 tokens and more than 20 directives, coded", async () => {
    const gql = graphqlClient(server.url);
    const tokens = await gql(`{ ${Array.from({ length: 2_600 }, () => "indexStatus { version }").join(" ")} }`);
    expectLimit(tokens, "tokens");
    const directives = await gql(`{ indexStatus { version ${"@include(if: true) ".repeat(21)} } }`);
    expectLimit(directives, "directives");
    const atMost = await gql(`{ indexStatus { version ${"@include(if: true) ".repeat(20)} } }`);
    expect(atMost.errors?.[0]?.extensions?.code).not.toBe("QUERY_TOO_COMPLEX");
  });

  it("refuses a list page over 500", async () => {
    const res = await graphqlClient(server.url)("{ campaigns(first: 501) { id } }");
    expect(res.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });
});

describe("request log", () => {
  /** A GraphQL request with this request id; its log line marks "everything before it was logged". */
  const status = async (reqId: string) => {
    const res = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}`, "x-request-id": reqId },
      body: JSON.stringify({ query: "query Status { indexStatus { version } }" }),
    });
    await res.json();
    return res;
  };
  const linesOf = (reqId: string) => server.logs.filter((l) => (l as { reqId?: string }).reqId === reqId);

  it("logs one line per GraphQL request with its id, operation and status, and never the token", async () => {
    const res = await status("req-123");
    expect(res.headers.get("x-request-id")).toBe("req-123");
    await expect.poll(() => linesOf("req-123").length, { message: "the request's log line" }).toBe(1);
    expect(linesOf("req-123")).toEqual([
      expect.objectContaining({ msg: "graphql request", status: 200, path: "/graphql", operations: ["query Status"] }),
    ]);
    expect(JSON.stringify(server.logs)).not.toContain(ADMIN_TOKEN);
  });

  it("shows the start-up warm-up as one query through the whole pipeline, answered 200 before the index loaded", () => {
    // src/runtime/warm-up.ts: sent in-process with the admin token, so the first client operation does
    // not pay the pipeline's first use. A 401 here would mean the warm-up no longer gets through.
    const warmUp = linesOf("warm-up");
    expect(warmUp).toEqual([
      expect.objectContaining({ msg: "graphql request", status: 200, operations: ["query WarmUp"] }),
    ]);
    const loaded = server.logs.findIndex((l) => (l as { msg?: string }).msg === "index loaded");
    expect(loaded, "the replica logged its index load").toBeGreaterThan(-1);
    expect(server.logs.indexOf(warmUp[0])).toBeLessThan(loaded);
  });

  it("does not log delivery requests one by one", async () => {
    const before = server.logs.length;
    for (let i = 0; i < 20; i++) await (await fetch(`${server.url}/v1/delivery?app=a&os=ios&country=US`)).arrayBuffer();
    // Log lines are written in order: once the marker's line is there, any delivery line would be too.
    await status("marker");
    await expect.poll(() => linesOf("marker").length, { message: "the marker request's log line" }).toBe(1);
    expect(server.logs.slice(before)).toEqual(linesOf("marker"));
  });
});

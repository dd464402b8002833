// Fuzzing samples for /v1/delivery and /graphql (fast-check arbitraries: valid, odd and malformed
// requests, as fetch sends them or as raw bytes on a socket) and the checks every reply must pass.
import fc from "fast-check";
import { ADMIN_TOKEN } from "./graphql.ts";

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export type Probe =
  | { kind: "fetch"; method: string; path: string; headers: Record<string, string>; body?: Buffer }
  | { kind: "raw"; bytes: Buffer; head?: boolean };

// ---------------------------------------------------------------------------------------------
// Building blocks shared by both endpoints.

const utf8 = (text: string) => Buffer.from(text, "utf8");

/** Bytes that are never valid UTF-8: stray continuation, overlong, surrogate, truncated, 0xFF. */
const invalidUtf8 = fc.constantFrom(
  [0x80],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe0, 0xa4],
  [0xff, 0xfe],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
);

const controlChars = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.constant(0x7f), fc.integer({ min: 0x80, max: 0x9f })), {
    minLength: 1,
    maxLength: 6,
  })
  .map((codes) => String.fromCharCode(...codes));

/** Anything a device might put where a string belongs. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom("candycrush", "minecraft", "spotify", "com.example.app"), weight: 3 },
  { arbitrary: fc.constantFrom("ios", "android", "IOS", " Android ", "web"), weight: 3 },
  { arbitrary: fc.constantFrom("US", "us", "FR", "Germany", "canada", "Côte d'Ivoire", "ZZ", "Atlantis"), weight: 3 },
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  controlChars,
  fc.tuple(fc.constantFrom("ios", "US", "minecraft"), controlChars).map(([value, junk]) => `${junk}${value}${junk}`),
  fc.constantFrom("", " ", "\t\n", "\u00a0", "\u200b", "\ufeff", "ios android", "\ud800", "null", "undefined"),
  fc.integer({ min: 1, max: 6_000 }).map((n) => "a".repeat(n)),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);

/** A device a campaign may serve: known values in odd case and spacing. */
const validDevice = fc.record({
  app: fc.constantFrom("candycrush", "Minecraft", " spotify ", "com.example.app"),
  os: fc.constantFrom("ios", "android", "IOS", " Android "),
  country: fc.constantFrom("US", "us", "FR", "Germany", "canada", " de "),
});

const asText = (value: unknown) => (typeof value === "string" ? value : (JSON.stringify(value) ?? ""));

const deviceObject = fc.record(
  { app: fieldValue, os: fieldValue, country: fieldValue, extra: fc.jsonValue({ maxDepth: 3 }) },
  { requiredKeys: [] },
);

/** Nested `[[[…` or `{"a":{"a":…` around 4 KiB: closed or not. */
const deepJson = fc
  .tuple(fc.constantFrom("[", '{"a":'), fc.integer({ min: 1, max: 4_200 }), fc.boolean())
  .map(([open, bytes, closed]) => {
    const depth = Math.max(1, Math.floor(bytes / (open.length + 1)));
    const close = open === "[" ? "]" : "}";
    return open.repeat(depth) + (closed ? `1${close.repeat(depth)}` : "");
  });

// ---------------------------------------------------------------------------------------------
// /v1/delivery

const deliveryBody: fc.Arbitrary<Buffer> = fc.oneof(
  { arbitrary: validDevice.map((o) => utf8(JSON.stringify(o))), weight: 3 },
  { arbitrary: deviceObject.map((o) => utf8(JSON.stringify(o))), weight: 6 },
  fc.jsonValue({ maxDepth: 4 }).map((v) => utf8(JSON.stringify(v) ?? "")),
  deviceObject.chain((o) => {
    const text = JSON.stringify(o);
    return fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => utf8(text.slice(0, cut)));
  }),
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc.tuple(deviceObject, invalidUtf8, fc.nat()).map(([o, bad, at]) => {
    const text = utf8(JSON.stringify({ ...o, app: "x" }));
    const cut = at % (text.length + 1);
    return Buffer.concat([text.subarray(0, cut), Buffer.from(bad), text.subarray(cut)]);
  }),
  // Invalid UTF-8 inside a value: valid JSON once decoded with replacement characters.
  invalidUtf8.map((bad) => Buffer.concat([utf8('{"app":"'), Buffer.from(bad), utf8('","os":"ios","country":"US"}')])),
  fc
    .integer({ min: 3_000, max: 6_200 })
    .map((n) => utf8(JSON.stringify({ app: "a".repeat(n), os: "ios", country: "US" }))),
  deepJson.map(utf8),
  fc
    .constantFrom(
      "",
      " ",
      "null",
      "true",
      "0",
      '"app"',
      "[]",
      "{}",
      '{"app":"a","app":"b","os":"ios","country":"US"}',
      '{"__proto__":{"app":"x","os":"ios","country":"US"}}',
      '{"constructor":{"prototype":{"app":"x"}},"app":"toString","os":"ios","country":"US"}',
      '\ufeff{"app":"a","os":"ios","country":"US"}',
      '{"app":"a","os":"ios","country":"US"}garbage',
      '{"app":"a","os":"ios","country":"US"}\n{"app":"b"}',
      '{"app":"\\ud800","os":"ios","country":"US"}',
      '{"app":"\\u0000","os":"\\u0000","country":"\\u0000"}',
      '{"app":1e999,"os":-0,"country":NaN}',
    )
    .map(utf8),
  fc.constant(Buffer.from('{"app":"a","os":"ios","country":"US"}', "utf16le")),
);

/** Query strings: well-formed with random values, or percent-encoding garbage. */
const deliveryQuery: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: validDevice.map((o) => new URLSearchParams(o).toString()), weight: 3 },
  {
    arbitrary: deviceObject.map((o) =>
      new URLSearchParams(Object.entries(o).map(([k, v]) => [k, asText(v)])).toString(),
    ),
    weight: 4,
  },
  fc
    .array(
      fc.oneof(
        fc.constantFrom("%", "%z", "%zz", "%E0%A4%A", "%00", "%FF", "%C0%AF", "%ED%A0%80", "%F0%9F%98%80", "%2", "%%"),
        fc.constantFrom("&", "=", "+", ";", "#", "?", "app=", "os=", "country=", "app", "app=ios&app=android"),
        fc.constantFrom("app=minecraft", "os=ios", "country=US", "country=%20us%20", "os=%09IOS"),
        fc.string({ unit: "binary-ascii", maxLength: 12 }).map(encodeURI),
        fc.string({ unit: "grapheme", maxLength: 8 }),
      ),
      { maxLength: 12 },
    )
    .map((parts) => parts.join("")),
  fc.integer({ min: 1_000, max: 6_000 }).map((n) => `app=${"a".repeat(n)}&os=ios&country=US`),
);

const headerValue = fc.string({ unit: "binary-ascii", maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, ""));

const deliveryHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      "content-type": fc.constantFrom(
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=utf-16",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=----x",
        "application/xml",
        "",
        "*/*",
        "garbage;;;=",
      ),
      "content-encoding": fc.constantFrom("gzip", "deflate", "br", "identity", "compress, gzip", "bogus"),
      accept: fc.constantFrom("application/json", "*/*", "text/html", "", "application/x-protobuf"),
      "x-fuzz": headerValue,
      "user-agent": headerValue,
    },
    { requiredKeys: [] },
  )
  .map(
    (headers) =>
      Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<string, string>,
  );

/** Methods fetch can send: standard ones, any case, and tokens Node's parser knows or refuses. */
const fetchMethod = fc.oneof(
  { arbitrary: fc.constantFrom("GET", "POST"), weight: 6 },
  fc.constantFrom(
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "HEAD",
    "get",
    "Post",
    "patch",
    "FOO",
    "PROPFIND",
    "M-SEARCH",
    "PURGE",
    "QUERY",
    "X_WEIRD-1",
  ),
);

const fetchDelivery: fc.Arbitrary<Probe> = fc
  .tuple(fetchMethod, deliveryQuery, fc.boolean(), deliveryHeaders, deliveryBody)
  .map(([method, query, withQuery, headers, body]) => {
    const upper = method.toUpperCase();
    const bodyless = upper === "GET" || upper === "HEAD";
    return {
      kind: "fetch" as const,
      method,
      path: `/v1/delivery${bodyless || withQuery ? `?${query}` : ""}`,
      headers,
      body: bodyless ? undefined : body,
    };
  });

/** Malformed HTTP for raw sockets: request lines, framing and headers fetch would never send. */
const rawDelivery: fc.Arbitrary<Probe> = fc
  .record({
    method: fc.constantFrom(
      "GET",
      "POST",
      "POST",
      "get",
      "G E T",
      "CONNECT",
      "TRACE",
      "TRACK",
      "\x00GET",
      "PO\x7fST",
      "HEAD",
    ),
    target: fc.constantFrom(
      "/v1/delivery",
      "/v1/delivery?app=minecraft&os=ios&country=US",
      "/v1/delivery?app=\xff\xfe&os=ios&country=US",
      "/v1/delivery?app=a b",
      "*",
      "http://bullseye/v1/delivery?app=a&os=ios&country=US",
      "//v1/delivery",
      "/v1/delivery#frag",
      `/v1/delivery?app=${"a".repeat(20_000)}`,
    ),
    version: fc.constantFrom("HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1x", "HTTP/9.9", "", "HTTP/1"),
    host: fc.constantFrom("Host: bullseye\r\n", "", "Host: a\r\nHost: b\r\n", "Host: \xff\r\n"),
    framing: fc.constantFrom(
      "length",
      "length",
      "shorter",
      "negative",
      "nan",
      "huge",
      "twice",
      "chunked",
      "badchunk",
      "cl+te",
      "over",
    ),
    extra: fc.array(
      fc.constantFrom(
        "Expect: 100-continue",
        "Expect: teapot",
        "Content-Type: application/json",
        "Content-Encoding: gzip",
        "NoColonHere",
        "Bad Name: x",
        "X-Null: a\x00b",
        "X-Del: \x7f",
        "X-High: \xe9\xff",
        " folded: continuation",
        `X-Big: ${"b".repeat(17_000)}`,
        "Transfer-Encoding: gzip, chunked",
        "Connection: close",
        "Connection: keep-alive",
      ),
      { maxLength: 3 },
    ),
    body: deliveryBody,
  })
  .map(({ method, target, version, host, framing, extra, body }) => {
    let head = "";
    let payload = body;
    switch (framing) {
      case "length":
        head = `Content-Length: ${body.length}\r\n`;
        break;
      case "shorter": // the rest of the body reads as the next request on the connection
        head = `Content-Length: ${Math.floor(body.length / 2)}\r\n`;
        break;
      case "negative":
        head = "Content-Length: -1\r\n";
        break;
      case "nan":
        head = "Content-Length: 12abc\r\n";
        break;
      case "huge":
        head = "Content-Length: 99999999999999999999999\r\n";
        break;
      case "twice":
        head = `Content-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\n`;
        break;
      case "chunked":
        head = "Transfer-Encoding: chunked\r\n";
        payload = Buffer.concat([utf8(`${body.length.toString(16)}\r\n`), body, utf8("\r\n0\r\n\r\n")]);
        break;
      case "badchunk":
        head = "Transfer-Encoding: chunked\r\n";
        payload = Buffer.concat([utf8("zz\r\n"), body, utf8("\r\n0\r\n\r\n")]);
        break;
      case "cl+te":
        head = `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`;
        break;
      case "over": // declared over 4 KiB, sent short: refused on the declaration alone
        head = "Content-Length: 5000\r\n";
        break;
    }
    const headers = `${host}${head}${extra.map((line) => `${line}\r\n`).join("")}`;
    const bytes = Buffer.concat([Buffer.from(`${method} ${target} ${version}\r\n${headers}\r\n`, "latin1"), payload]);
    return { kind: "raw" as const, bytes, head: method === "HEAD" };
  });

export const deliveryProbe: fc.Arbitrary<Probe> = fc.oneof(
  { arbitrary: fetchDelivery, weight: 9 },
  { arbitrary: rawDelivery, weight: 1 },
);

export function checkDeliveryReply(reply: Reply, method: string): string | undefined {
  if (reply.status >= 500) return `status ${reply.status}`;
  const isHead = method.toUpperCase() === "HEAD";
  if (reply.status >= 400) {
    if (!/^application\/json/.test(reply.headers["content-type"] ?? "")) {
      return `${reply.status} without a JSON content-type (${reply.headers["content-type"]})`;
    }
    if (isHead) return undefined;
    try {
      const json = JSON.parse(reply.body.toString("utf8")) as { error?: unknown };
      if (typeof json.error !== "string" || json.error === "") return `${reply.status} without an error string`;
    } catch {
      return `${reply.status} body is not JSON: ${JSON.stringify(reply.body.toString("latin1").slice(0, 100))}`;
    }
    return undefined;
  }
  if (reply.status === 200 && !isHead) {
    const json = JSON.parse(reply.body.toString("utf8")) as unknown;
    if (!Array.isArray(json) || json.length === 0) return "200 without a non-empty array of ads";
  }
  if (reply.status === 204 && reply.body.length > 0) return "204 with a body";
  if (reply.status !== 200 && reply.status !== 204) return `unexpected status ${reply.status}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// /graphql

const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}`, accept: "application/json" };

const gqlPost = (body: unknown, contentType = "application/json"): Probe => ({
  kind: "fetch",
  method: "POST",
  path: "/graphql",
  headers: { ...AUTH, "content-type": contentType },
  body: Buffer.isBuffer(body) ? body : utf8(typeof body === "string" ? body : JSON.stringify(body)),
});
const gqlGet = (query: string): Probe => ({ kind: "fetch", method: "GET", path: `/graphql?${query}`, headers: AUTH });

const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.constantFrom(null, "", "\u0000", -1, 2 ** 31, 1.5, true, [], {}, ["a"], { id: "x" }),
);

const freeText = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 60 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  controlChars,
  fc.constantFrom("'; DROP TABLE campaign; --", "<script>alert(1)</script>", `\${7*7}`, "\u0000", "a".repeat(300)),
);

const slugish = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
  fc.string({ maxLength: 20 }),
  fc.constantFrom("", " ", "UPPER", "a".repeat(65), "-x", "x y", "é", "\u0000"),
);

const campaignInput = fc.record(
  {
    id: fc.oneof(slugish, anyJson),
    name: fc.oneof(freeText, anyJson),
    imageUrl: fc.oneof(
      fc.webUrl(),
      fc.constantFrom("ftp://x/y", "https://", "javascript:alert(1)", "//cdn/x.png", "https://a.b/\u0000", ""),
      anyJson,
    ),
    cta: fc.oneof(freeText, anyJson),
    status: fc.oneof(fc.constantFrom("ACTIVE", "PAUSED", "active", "DELETED"), anyJson),
    priority: fc.oneof(fc.integer({ min: -10, max: 1_100 }), anyJson),
    startsAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      anyJson,
    ),
    endsAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      anyJson,
    ),
    targeting: fc.oneof(
      fc.record(
        {
          include: fc.record(
            { apps: fc.array(fieldValue, { maxLength: 4 }), countries: fc.array(fieldValue, { maxLength: 4 }) },
            { requiredKeys: [] },
          ),
          exclude: fc.record(
            { os: fc.array(fieldValue, { maxLength: 4 }), categories: fc.array(slugish, { maxLength: 4 }) },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
      anyJson,
    ),
    bogus: anyJson,
  },
  { requiredKeys: [] },
);

/** Inputs of the right GraphQL types with random values: they reach the resolvers' own validation. */
const stringValue = fc.oneof(fc.constantFrom("minecraft", "US", "canada", "ios", "Android"), freeText);
const typedCampaignInput = fc.record(
  {
    id: slugish,
    name: freeText,
    imageUrl: fc.oneof(
      fc.webUrl(),
      freeText,
      fc.webUrl().map((url) => `${url}/${"\u0000"}`),
    ),
    cta: freeText,
    status: fc.constantFrom("ACTIVE", "PAUSED"),
    priority: fc.integer({ min: -10, max: 1_100 }),
    startsAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom("2026-01-01", "yesterday", ""),
    ),
    endsAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    targeting: fc.record(
      {
        include: fc.record(
          { apps: fc.array(stringValue, { maxLength: 4 }), countries: fc.array(stringValue, { maxLength: 4 }) },
          { requiredKeys: [] },
        ),
        exclude: fc.record(
          { os: fc.array(stringValue, { maxLength: 4 }), categories: fc.array(slugish, { maxLength: 4 }) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["id", "name", "imageUrl", "cta"] },
);

const CREATE =
  "mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version campaign { id name } } }";
const UPDATE =
  "mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { version } }";
const IMPORT = "mutation($c: [CreateCampaignInput!]!) { importCampaigns(campaigns: $c) { version count } }";
const UPSERT_CATEGORY =
  "mutation($input: CategoryInput!) { upsertCategory(input: $input) { version category { id apps } } }";
const TYPED_QUERY = `query($first: Int, $after: String, $status: CampaignStatus, $id: ID!, $since: Int!) {
  campaigns(first: $first, after: $after, status: $status) { id }
  campaign(id: $id) { id }
  category(id: $id) { id }
  ruleChanges(sinceVersion: $since) { version }
}`;

const nestedSelection = (depth: number) => `{${"a { ".repeat(depth)}b${" }".repeat(depth)}}`;
const REAL_CHAIN = 'category(id: "games") { campaigns { targeting { include { apps } exclude { os } } } }';

export const graphqlProbe: fc.Arbitrary<Probe> = fc.oneof(
  // Invalid documents.
  fc.string({ unit: "grapheme", maxLength: 200 }).map((query) => gqlPost({ query })),
  fc
    .tuple(
      fc.nat({ max: 400 }),
      fc.nat({ max: 400 }),
      fc.constantFrom("campaigns { id", "indexStatus", "(", "[", '"', "#"),
    )
    .map(([open, close, middle]) => gqlPost({ query: `${"{".repeat(open)} ${middle} ${"}".repeat(close)}` })),
  fc
    .constantFrom(
      "{",
      "}",
      "{ campaigns { id }",
      "query {",
      "{ campaigns(first: ) { id } }",
      '{ campaign(id: "x) { id } }',
    )
    .map((query) => gqlPost({ query })),
  // Depth: nested selections up to thousands of levels, long chains of real fields, nested argument values.
  fc.integer({ min: 1, max: 3_000 }).map((depth) => gqlPost({ query: nestedSelection(depth) })),
  fc.constantFrom(200, 127, 128, 129).map((depth) => gqlPost({ query: nestedSelection(depth) })),
  fc
    .integer({ min: 1, max: 300 })
    .map((n) => gqlPost({ query: `{ ${Array.from({ length: n }, (_, i) => `c${i}: ${REAL_CHAIN}`).join(" ")} }` })),
  fc
    .tuple(fc.integer({ min: 1, max: 3_000 }), fc.constantFrom("[", "{a:"))
    .map(([depth, open]) =>
      gqlPost({ query: `{ campaign(id: ${open.repeat(depth)}1${(open === "[" ? "]" : "}").repeat(depth)}) { id } }` }),
    ),
  fc.integer({ min: 2, max: 6 }).map((n) => {
    // Fragment cycles: each fragment spreads the next, the last spreads the first.
    const fragments = Array.from(
      { length: n },
      (_, i) => `fragment F${i} on Query { indexStatus { version } ...F${(i + 1) % n} }`,
    );
    return gqlPost({ query: `{ ...F0 } ${fragments.join(" ")}` });
  }),
  // Width: alias spam, thousands of list items.
  fc
    .integer({ min: 1, max: 1_000 })
    .map((n) =>
      gqlPost({ query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: indexStatus { version }`).join(" ")} }` }),
    ),
  fc.constant(
    gqlPost({
      query: `{ ${Array.from({ length: 1_000 }, (_, i) => `a${i}: indexStatus { version campaigns }`).join(" ")} }`,
    }),
  ),
  fc.integer({ min: 1, max: 200 }).map((n) =>
    gqlPost({
      query: `{ ${Array.from({ length: n }, (_, i) => `c${i}: campaign(id: "id-${i}") { id name }`).join(" ")} }`,
    }),
  ),
  fc.array(campaignInput, { maxLength: 30 }).map((c) => gqlPost({ query: IMPORT, variables: { c } })),
  fc.constantFrom(
    gqlPost({
      query: IMPORT,
      variables: {
        c: Array.from({ length: 5_000 }, (_, i) => ({ id: `Bad Id ${i}`, name: "", imageUrl: "nope", cta: "" })),
      },
    }),
    gqlPost({ query: IMPORT, variables: { c: Array.from({ length: 5_000 }, (_, i) => ({ id: `id-${i}` })) } }),
    gqlPost({
      query: "query($ids: [ID!]!) { indexStatus { version } }",
      variables: { ids: Array.from({ length: 5_000 }, (_, i) => `id-${i}`) },
    }),
    gqlPost({
      query: UPSERT_CATEGORY,
      variables: { input: { id: "big", name: "Big", apps: Array.from({ length: 10_001 }, (_, i) => `app${i}`) } },
    }),
  ),
  // Mutations with random inputs (some valid: they write, which is fine on this database).
  campaignInput.map((input) => gqlPost({ query: CREATE, variables: { input } })),
  fc
    .tuple(fc.oneof(slugish, fc.constant("everywhere")), campaignInput)
    .map(([id, input]) => gqlPost({ query: UPDATE, variables: { id, input } })),
  fc
    .record(
      {
        id: fc.oneof(slugish, anyJson),
        name: fc.oneof(freeText, anyJson),
        apps: fc.oneof(fc.array(fieldValue, { maxLength: 5 }), anyJson),
      },
      { requiredKeys: [] },
    )
    .map((input) => gqlPost({ query: UPSERT_CATEGORY, variables: { input } })),
  fc
    .oneof(slugish, anyJson)
    .map((id) => gqlPost({ query: "mutation($id: ID!) { deleteCategory(id: $id) { version } }", variables: { id } })),
  { arbitrary: typedCampaignInput.map((input) => gqlPost({ query: CREATE, variables: { input } })), weight: 3 },
  fc
    .tuple(slugish, typedCampaignInput)
    .map(([id, { id: _id, ...input }]) => gqlPost({ query: UPDATE, variables: { id, input } })),
  fc.array(typedCampaignInput, { maxLength: 20 }).map((c) => gqlPost({ query: IMPORT, variables: { c } })),
  fc
    .record({ id: slugish, name: freeText, apps: fc.array(stringValue, { maxLength: 5 }) })
    .map((input) => gqlPost({ query: UPSERT_CATEGORY, variables: { input } })),
  // Wrong variable types: strings for ints, objects for strings, null for non-null.
  fc
    .record({ first: anyJson, after: anyJson, status: anyJson, id: anyJson, since: anyJson }, { requiredKeys: [] })
    .map((variables) => gqlPost({ query: TYPED_QUERY, variables })),
  // Unknown fields and arguments.
  fc
    .string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 })
    .map((name) => gqlPost({ query: `{ campaigns { id ${name.replace(/[^A-Za-z_]/g, "_")} } }` })),
  fc
    .constantFrom(
      "{ bogus }",
      "{ campaigns(bogus: 1) { id } }",
      "mutation { dropTables }",
      "subscription { nope }",
      "{ __type(name: 1) { name } }",
    )
    .map((query) => gqlPost({ query })),
  // Malformed request bodies and parameters.
  fc.uint8Array({ maxLength: 300 }).map((bytes) => gqlPost(Buffer.from(bytes))),
  fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.nat()).map(([value, cut]) => {
    const text = JSON.stringify({ query: "{ indexStatus { version } }", variables: value });
    return gqlPost(text.slice(0, cut % (text.length + 1)));
  }),
  fc
    .record({ query: anyJson, variables: anyJson, operationName: anyJson, extensions: anyJson }, { requiredKeys: [] })
    .map((body) => gqlPost(body)),
  fc.jsonValue({ maxDepth: 3 }).map((body) => gqlPost(body)),
  fc
    .tuple(
      fc.constantFrom(
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/octet-stream",
        "APPLICATION/JSON",
      ),
      fc.string({ unit: "grapheme", maxLength: 80 }),
    )
    .map(([type, body]) => gqlPost(body, type)),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          "query=",
          "variables=",
          "extensions=",
          "operationName=",
          "&",
          "=",
          "%",
          "%zz",
          "%E0%A4%A",
          "%00",
          "%7B",
          "%5B",
        ),
        fc.constantFrom(
          "query=%7B%20indexStatus%20%7B%20version%20%7D%20%7D",
          "variables=%7B%22a%22%3A1%7D",
          "query=mutation%7Bx%7D",
        ),
        fc.string({ unit: "binary-ascii", maxLength: 15 }).map(encodeURIComponent),
      ),
      { maxLength: 10 },
    )
    .map((parts) => gqlGet(parts.join(""))),
);

/** extensions.code of every GraphQL error seen (none: "-"), for the notes. */
export const graphqlCodes: string[] = [];

export function checkGraphQLReply(reply: Reply): string | undefined {
  if (reply.status >= 500) return `status ${reply.status}`;
  let json: { data?: unknown; errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
  try {
    json = JSON.parse(reply.body.toString("utf8"));
    for (const error of json.errors ?? []) graphqlCodes.push(String(error.extensions?.code ?? "-"));
  } catch {
    return `${reply.status} body is not JSON (${reply.headers["content-type"]}): ${JSON.stringify(reply.body.toString("latin1").slice(0, 100))}`;
  }
  if (reply.status >= 400 && !(Array.isArray(json.errors) && json.errors.length > 0))
    return `${reply.status} without errors`;
  if (json.errors?.some((e) => e.extensions?.code === "INTERNAL_SERVER_ERROR")) {
    return `unexpected error (masked): ${JSON.stringify(json.errors).slice(0, 300)}`;
  }
  return undefined;
}

// CONTRACT §3 row by row, over real HTTP against a started server on a fresh Postgres database.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoData } from "../../src/seed/demo.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { type RunningServer, startServer, waitUntil } from "../helpers/server.ts";

let database: TestDatabase;
const latestVersion = async () =>
  (await database.sql<{ version: number }>("SELECT version FROM change_counter"))[0]?.version ?? 0;
let server: RunningServer;

const deliver = (body: unknown, init: RequestInit = {}) =>
  fetch(`${server.url}/v1/delivery`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
/**
 * Waits until the index serves the database's latest version (the flight-date tests add campaigns by
 * SQL, which reach the index by polling) and returns it.
 */
async function indexCaughtUp(): Promise<number> {
  const version = await latestVersion();
  await expect
    .poll(async () => (await deliver({ app: "any", os: "ios", country: "US" })).headers.get("x-index-version"), {
      message: `the index serves version ${version}`,
      timeout: 5_000,
    })
    .toBe(String(version));
  return version;
}
/** Active campaigns in the database: the demo's four plus any a flight-date test added. */
const activeCampaigns = async () =>
  (await database.sql<{ n: number }>(`SELECT count(*)::int AS n FROM campaign WHERE status = 'ACTIVE'`))[0]?.n;
const cids = async (res: Response) => ((await res.json()) as { cid: string }[]).map((a) => a.cid);

/** Sends raw bytes and returns the status line: for requests fetch() refuses to make. */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1", () => socket.end(text));
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  const insertCampaign = `INSERT INTO campaign (id, name, image_url, cta, status, priority, starts_at, ends_at)
    VALUES ($1, $1, $2, $3, $4::"CampaignStatus", $5, $6, $7)`;
  for (const c of demoData.campaigns) {
    await database.sql(insertCampaign, [c.id, c.imageUrl, c.cta, c.status, c.priority, c.startsAt, c.endsAt]);
    for (const mode of ["include", "exclude"] as const)
      for (const [dimension, values] of Object.entries(c[mode]))
        for (const value of values)
          await database.sql(`INSERT INTO targeting_rule VALUES ($1, $2::"Dimension", $3::"RuleMode", $4)`, [
            c.id,
            dimension.toUpperCase(),
            mode.toUpperCase(),
            value,
          ]);
  }
  for (const category of demoData.categories) {
    await database.sql("INSERT INTO category (id, name) VALUES ($1, $2)", [category.id, category.name]);
    for (const app of category.apps) await database.sql("INSERT INTO category_app VALUES ($1, $2)", [category.id, app]);
  }
  server = await startServer({ env: { DATABASE_URL: database.url } });
});

afterAll(async () => {
  await server?.stop();
  await database?.drop();
});

describe("POST /v1/delivery", () => {
  it("returns matching ads ordered by priority desc then cid, with version and no-store headers", async () => {
    const version = await indexCaughtUp();
    const res = await deliver({ app: "candycrush", os: "ios", country: "CA" });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-index-version")).toBe(String(version));
    expect(await res.clone().json()).toEqual([
      { cid: "spotify", img: "https://cdn.bullseye.example/creatives/spotify.png", cta: "Listen free" },
      { cid: "subwaysurfer", img: "https://cdn.bullseye.example/creatives/subwaysurfer.png", cta: "Download" },
    ]);
  });

  it("orders equal priorities by cid", async () => {
    // shazam (50, music + ios) and duolingo (50, any os but not games): both serve a music app on iOS.
    expect(await cids(await deliver({ app: "deezer", os: "ios", country: "US" }))).toEqual([
      "spotify",
      "duolingo",
      "shazam",
    ]);
  });

  it("matches values case-insensitively and accepts English country names", async () => {
    const res = await deliver({ app: " CandyCrush ", os: "IOS", country: "canada" });
    expect(res.status).toBe(200);
    expect(await cids(res)).toEqual(["spotify", "subwaysurfer"]);
  });

  it("targets by category and honours category excludes", async () => {
    // games app: subwaysurfer (include games) yes, duolingo (exclude games) no.
    expect(await cids(await deliver({ app: "minecraft", os: "android", country: "FR" }))).toEqual(["subwaysurfer"]);
    // not in any category: duolingo only (FR is outside spotify's countries).
    expect(await cids(await deliver({ app: "somenewsapp", os: "android", country: "FR" }))).toEqual(["duolingo"]);
  });

  it("returns 204 with an empty body when nothing matches", async () => {
    const res = await deliver({ app: "subwaysurfer", os: "web", country: "CN" });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(res.headers.get("x-index-version")).toMatch(/^\d+$/);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("ignores other fields", async () => {
    const res = await deliver({ app: "minecraft", os: "android", country: "FR", idfa: "x", nested: { a: [1] } });
    expect(await cids(res)).toEqual(["subwaysurfer"]);
  });

  it("rejects a missing field with 400 naming it", async () => {
    const res = await deliver({ os: "ios", country: "US" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "missing app param", fields: { app: "missing" } });
  });

  it("names every bad field (empty, wrong type, invalid value), the classic message the first one", async () => {
    const res = await deliver({ app: "   ", os: 7, country: "Atlantis" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "missing app param",
      fields: { app: "missing", os: "invalid", country: "invalid" },
    });
  });

  it("puts an invalid country before a missing os, as the classic engine did", async () => {
    const res = await deliver({ app: "candycrush", country: "Atlantis" });
    expect(await res.json()).toEqual({
      error: "invalid country param",
      fields: { country: "invalid", os: "missing" },
    });
  });

  it.each([
    ["malformed JSON", "{app:"],
    ["a JSON array", "[1,2]"],
    ["a JSON string", '"hello"'],
    ["null", "null"],
    ["an empty body", ""],
  ])("answers 400 with a JSON error for %s", async (_name, body) => {
    const res = await deliver(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: string; fields: Record<string, string> };
    expect(json.error).toBeTruthy();
    expect(json.fields).toEqual({ body: "invalid" });
  });

  it("answers 413 for a body over 4 KiB, declared or streamed", async () => {
    const big = JSON.stringify({ app: "a", os: "ios", country: "US", pad: "x".repeat(5000) });
    const res = await deliver(big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toMatch(/4096/);
    const chunked = await rawRequest(
      `POST /v1/delivery HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${(5000).toString(16)}\r\n${"x".repeat(5000)}\r\n0\r\n\r\n`,
    );
    expect(chunked).toMatch(/^HTTP\/1.1 413/);
  });

  it("answers a body that arrives in pieces, of a stated length or chunked, as it answers it whole", async () => {
    const body = JSON.stringify({ app: "minecraft", os: "android", country: "FR" });
    const whole = await deliver(body);
    expect(whole.status).toBe(200);
    const expected = await whole.text();
    /** Sends the head, then each piece 30 ms apart; resolves with the whole reply. */
    const inPieces = (head: string, pieces: string[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(server.port, "127.0.0.1", async () => {
          socket.write(head);
          for (const piece of pieces) {
            await new Promise((r) => setTimeout(r, 30));
            socket.write(piece);
          }
        });
        let data = "";
        socket.on("data", (chunk) => (data += chunk.toString()));
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
    const stated = await inPieces(
      `POST /v1/delivery HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      [body.slice(0, 10), body.slice(10, 25), body.slice(25)],
    );
    expect(stated).toMatch(/^HTTP\/1.1 200/);
    expect(stated.endsWith(`\r\n\r\n${expected}`)).toBe(true);
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const chunked = await inPieces(
      "POST /v1/delivery HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
      [chunk(body.slice(0, 20)), chunk(body.slice(20)), "0\r\n\r\n"],
    );
    expect(chunked).toMatch(/^HTTP\/1.1 200/);
    expect(chunked.endsWith(`\r\n\r\n${expected}`)).toBe(true);
  });

  it("accepts a body of exactly 4 KiB", async () => {
    const base = JSON.stringify({ app: "minecraft", os: "android", country: "FR", pad: "" });
    const body = JSON.stringify({
      app: "minecraft",
      os: "android",
      country: "FR",
      pad: "x".repeat(4096 - base.length),
    });
    expect(Buffer.byteLength(body)).toBe(4096);
    expect((await deliver(body)).status).toBe(200);
  });
});

describe("GET /v1/delivery", () => {
  it("answers from query parameters like POST", async () => {
    const res = await fetch(`${server.url}/v1/delivery?app=candycrush&os=ios&country=Canada`);
    expect(res.status).toBe(200);
    expect(await cids(res)).toEqual(["spotify", "subwaysurfer"]);
  });

  it("rejects missing parameters with 400", async () => {
    const res = await fetch(`${server.url}/v1/delivery?app=x`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: "missing country param",
      fields: { os: "missing", country: "missing" },
    });
  });
});

// CONTRACT §3: `error` is the classic targeting-engine message for the first problem in the order app,
// country, os; `fields` names every one. Every combination of missing parameters, both methods.
describe("classic error wording", () => {
  const VALID = { app: "candycrush", country: "CA", os: "ios" } as const;
  const ORDER = ["app", "country", "os"] as const;
  // The 7 non-empty subsets of the three names (bit masks 1..7), each in app, country, os order.
  const combinations = Array.from({ length: 7 }, (_, i) => ORDER.filter((_, bit) => ((i + 1) >> bit) & 1));
  const cases = combinations.flatMap((missing) =>
    (["GET", "POST"] as const).flatMap((method) =>
      (["absent", "empty"] as const).map((how) => ({ method, missing, how })),
    ),
  );

  it.each(cases)("$method without $missing ($how) → the first missing one", async ({ method, missing, how }) => {
    const fields = Object.fromEntries(
      ORDER.filter((name) => how === "empty" || !missing.includes(name)).map((name) => [
        name,
        missing.includes(name) ? "" : VALID[name],
      ]),
    );
    const res =
      method === "GET"
        ? await fetch(`${server.url}/v1/delivery?${new URLSearchParams(fields)}`)
        : await deliver(fields);
    expect(res.status).toBe(400);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      error: `missing ${missing[0]} param`,
      fields: Object.fromEntries(missing.map((name) => [name, "missing"])),
    });
  });

  it("covers all seven combinations", () => {
    expect(new Set(combinations.map((c) => c.join("+")))).toEqual(
      new Set(["app", "country", "os", "app+country", "app+os", "country+os", "app+country+os"]),
    );
  });
});

describe("other methods and routes", () => {
  it("answers requests that offer a protocol upgrade it does not take (curl --http2) as plain HTTP/1.1", async () => {
    const get = await rawRequest(
      "GET /v1/delivery?app=candycrush&os=ios&country=CA HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n",
    );
    expect(get).toMatch(/^HTTP\/1.1 200/);
    expect(get).toContain('"cid":"spotify"');
    const body = JSON.stringify({ app: "candycrush", os: "ios", country: "CA" });
    const post = await rawRequest(
      `POST /v1/delivery HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect(post).toMatch(/^HTTP\/1.1 200/);
    expect(post).toContain('"cid":"spotify"');
    // The connection stays usable: a second request on it after the declined offer is answered too.
    const twoOnOne = await rawRequest(
      `POST /v1/delivery HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    expect(twoOnOne.match(/HTTP\/1.1 200/g)).toHaveLength(2);
    expect(twoOnOne).toContain('"cid":"spotify"');
  });

  it.each(["PUT", "DELETE", "PATCH"])("answers %s with 405 and Allow: GET, POST", async (method) => {
    const res = await fetch(`${server.url}/v1/delivery`, { method, body: method === "DELETE" ? undefined : "{}" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
    expect(((await res.json()) as { error: string }).error).toMatch(method);
    expect(res.headers.get("x-index-version")).toMatch(/^\d+$/);
  });

  it("exposes Prometheus metrics: requests by status, latency histogram, index version and campaigns", async () => {
    const version = await indexCaughtUp();
    const campaigns = await activeCampaigns();
    expect(campaigns).toBeGreaterThanOrEqual(4);
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const count = (text: string, status: string) =>
      Number(new RegExp(`^bullseye_delivery_requests_total\\{status="${status}"\\} (\\d+)$`, "m").exec(text)?.[1] ?? 0);
    await (await deliver({ app: "minecraft", os: "android", country: "FR" })).arrayBuffer();
    await (await deliver({ os: "ios" })).arrayBuffer();
    const after = await (await fetch(`${server.url}/metrics`)).text();
    expect(count(after, "200") - count(before, "200")).toBe(1);
    expect(count(after, "400") - count(before, "400")).toBe(1);
    expect(after).toMatch(/^bullseye_delivery_duration_seconds_bucket\{le="\+Inf"\} \d+$/m);
    expect(after).toMatch(new RegExp(`^bullseye_index_version ${version}$`, "m"));
    expect(after).toMatch(new RegExp(`^bullseye_index_campaigns ${campaigns}$`, "m"));
    expect(after).toMatch(/^bullseye_dependency_up\{dependency="postgres"\} 1$/m);
    expect(after).toMatch(/^nodejs_eventloop_lag_max_seconds /m);
  });

  it("serves /healthz and /readyz", async () => {
    await indexCaughtUp();
    const campaigns = await activeCampaigns();
    expect(campaigns).toBeGreaterThanOrEqual(4);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", campaigns });
  });

  it("never answers 5xx to odd requests", async () => {
    const odd = [
      "GET /v1/delivery?app=%E0%A4%A&os=&country=US HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "POST /v1/delivery HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n\xff\xfe\x00",
      `POST /v1/delivery HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n${"[".repeat(2000)}`,
      "GARBAGE\r\n\r\n",
    ];
    for (const text of odd) {
      const response = await rawRequest(text);
      expect(response).toMatch(/^HTTP\/1.1 4\d\d/);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe("flight dates and live data", () => {
  it("starts serving a campaign when its window opens, with no write at that moment", async () => {
    const opensAt = new Date(Date.now() + 1500);
    await database.sql(
      `INSERT INTO campaign (id, name, image_url, cta, priority, starts_at, ends_at) VALUES ('flash', 'Flash', 'https://img/flash.png', 'Now', 1000, $1, $2)`,
      [opensAt, new Date(opensAt.getTime() + 60_000)],
    );
    await database.sql(`INSERT INTO targeting_rule VALUES ('flash', 'APP', 'INCLUDE', 'flashapp')`);
    const request = { app: "flashapp", os: "ios", country: "FR" };
    // The direct SQL edit reaches the index through the change log.
    const version = await latestVersion();
    await waitUntil(async () => (await deliver(request)).headers.get("x-index-version") === String(version), 5000);
    if (Date.now() < opensAt.getTime()) expect(await cids(await deliver(request))).toEqual(["duolingo"]);
    await expect
      .poll(async () => cids(await deliver(request)), {
        message: "flash served once its window opened",
        timeout: 5_000,
      })
      .toEqual(["flash", "duolingo"]);
    expect(Date.now()).toBeGreaterThanOrEqual(opensAt.getTime());
  });

  it("writes a creative's non-ASCII text as UTF-8 beside ASCII ones, matched and from the device cache", async () => {
    const cta = "Jetzt kaufen – 50 % günstiger 🎉";
    await database.sql(
      `INSERT INTO campaign (id, name, image_url, cta, priority) VALUES ('unicode', 'Ünïcode', 'https://img/ü.png', $1, 5)`,
      [cta],
    );
    await database.sql(`INSERT INTO targeting_rule VALUES ('unicode', 'APP', 'INCLUDE', 'unicodeapp')`);
    const request = { app: "unicodeapp", os: "android", country: "FR" };
    const expected = [
      { cid: "duolingo", img: "https://cdn.bullseye.example/creatives/duolingo.png", cta: "Learn now" },
      { cid: "unicode", img: "https://img/ü.png", cta },
    ];
    await waitUntil(async () => (await cids(await deliver(request))).includes("unicode"), 5000);
    // The first answer is matched; a device is kept from its second request and answered from the cache after.
    for (let i = 0; i < 4; i++) {
      const res = await deliver(request);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(Number(res.headers.get("content-length"))).toBe(bytes.length);
      expect(bytes.equals(Buffer.from(JSON.stringify(expected), "utf8"))).toBe(true);
    }
  });

  it("stops serving when the window closes", async () => {
    const endsAt = new Date(Date.now() + 1500);
    await database.sql(
      `INSERT INTO campaign (id, name, image_url, cta, priority, ends_at) VALUES ('ending', 'Ending', 'https://img/e.png', 'Go', 999, $1)`,
      [endsAt],
    );
    await database.sql(`INSERT INTO targeting_rule VALUES ('ending', 'APP', 'INCLUDE', 'endingapp')`);
    const request = { app: "endingapp", os: "android", country: "FR" };
    await waitUntil(async () => (await cids(await deliver(request).then((r) => r.clone()))).includes("ending"), 5000);
    await expect
      .poll(async () => cids(await deliver(request)), { message: "ending gone once its window closed", timeout: 5_000 })
      .toEqual(["duolingo"]);
    expect(Date.now()).toBeGreaterThanOrEqual(endsAt.getTime());
  });
});

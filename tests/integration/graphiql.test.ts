// GraphiQL at /graphql is served by the replica itself (CONTRACT §4): its code comes from the installed
// package, so the page works offline and pulls no third-party script onto the dashboard's origin.
// The page needs no database: the Yoga handler is built with stub dependencies and served in-process.
import http, { type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { createGraphQLHandler, type GraphQLDeps } from "../../src/schema/yoga.ts";
import { ADMIN_TOKEN } from "../helpers/graphql.ts";

const BROWSER_GET = {
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
};

let server: Server;
let origin: string;

beforeAll(async () => {
  const deps = {
    db: {},
    sync: {},
    replicas: {},
    config: loadConfig({ ADMIN_TOKEN }),
    log: createLogger("silent"),
    afterCommit: async () => true,
  } as unknown as GraphQLDeps;
  const yoga = createGraphQLHandler(deps);
  server = http.createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

/** Every URL the page would load by itself: script src, link href, img src, CSS url() and @import. */
function assetUrls(html: string): string[] {
  const patterns = [
    /<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)/gi,
    /<link\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)/gi,
    /<img\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)/gi,
    /url\(\s*["']?([^"')\s]+)/gi,
    /@import\s+(?:url\()?\s*["']?([^"');\s]+)/gi,
  ];
  return patterns.flatMap((pattern) => [...html.matchAll(pattern)].map((match) => match[1] as string));
}

describe("GraphiQL", () => {
  it("answers a browser GET with the page, its code inlined: no http(s):// asset URL", async () => {
    const res = await fetch(`${origin}/graphql`, { headers: BROWSER_GET });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain("<title>Bullseye</title>");
    expect(html).toContain("YogaGraphiQL.renderYogaGraphiQL");
    const urls = assetUrls(html);
    expect(urls.length, "the page references at least its favicon").toBeGreaterThan(0);
    expect(urls.filter((url) => /^(https?:)?\/\//i.test(url))).toEqual([]);
    expect(html).not.toMatch(/unpkg\.com|jsdelivr|cdnjs|esm\.sh|googleapis/i);
  });

  it("serves the same page to every browser GET (rendered once)", async () => {
    const get = async () => (await fetch(`${origin}/graphql`, { headers: BROWSER_GET })).text();
    const [a, b] = await Promise.all([get(), get()]);
    expect(a.length).toBeGreaterThan(100_000);
    expect(b).toBe(a);
  });
});

describe("GraphiQL in a browser with no network but this origin", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-quic",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("renders the editor while every request to another origin fails", async () => {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    // Offline: anything not from this origin (or inline data:/blob:) is refused, and recorded.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      elsewhere.push(url);
      return route.abort("internetdisconnected");
    });
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) elsewhere.push(url);
    });
    await page.goto(`${origin}/graphql`);
    // The query editor holds the default query once GraphiQL has rendered.
    await expect
      .poll(async () => page.locator(".graphiql-container").count(), { message: "GraphiQL rendered", timeout: 20_000 })
      .toBeGreaterThan(0);
    await expect
      .poll(async () => (await page.content()).includes("indexStatus"), {
        message: "the default query is in the editor",
        timeout: 20_000,
      })
      .toBe(true);
    expect(elsewhere).toEqual([]);
    await page.close();
  });
});

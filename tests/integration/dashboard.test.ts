// The dashboard in a real browser (Debian's Chromium through playwright-core; never a downloaded one):
// sign in, the campaign table, the live feed over SSE, pause from the UI, and "try a device" — all
// checked against what /v1/delivery serves.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDashboard } from "../../scripts/build-dashboard.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version } }`;
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`;

const campaign = (id: string, priority: number, targeting: object) => ({
  id,
  name: `Campaign ${id}`,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: `Get ${id}`,
  priority,
  targeting,
});

let database: TestDatabase;
let server: RunningServer;
let browser: Browser;
let page: Page;
let serverEnv: Record<string, string>;

beforeAll(async () => {
  [database] = await Promise.all([createTestDatabase(), buildDashboard()]);
  serverEnv = {
    DATABASE_URL: database.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("dashboard"),
    ADMIN_TOKEN,
  };
  server = await startServer({ env: serverEnv });
  const seeded = await graphqlClient(server.url)(IMPORT, {
    campaigns: [
      campaign("spotify", 10, { include: { apps: ["candycrush"], countries: ["CA", "US"] } }),
      campaign("subwaysurfer", 5, { include: { os: ["ios"] }, exclude: { countries: ["DE"] } }),
      campaign("duolingo", 1, {}),
    ],
  });
  expect(seeded.errors).toBeUndefined();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
});

const row = (cid: string) => page.locator(`#campaign-rows tr[data-cid="${cid}"]`);

describe("dashboard", () => {
  it("refuses an unknown token and signs in with the admin token", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.fill("#token", "not-a-valid-token-0000");
    await page.click("#signin button[type=submit]");
    await page.locator("#signin-error").waitFor({ state: "visible" });
    expect(await page.textContent("#signin-error")).toContain("Unknown token");

    await page.fill("#token", ADMIN_TOKEN);
    await page.click("#signin button[type=submit]");
    await page.locator("#app").waitFor({ state: "visible" });
    expect(await page.textContent("#role")).toBe("admin");
  });

  it("lists the seeded campaigns with status, targeting and a sparkline", async () => {
    await row("duolingo").waitFor({ timeout: 5_000 });
    expect(
      await page.locator("#campaign-rows tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-cid"))),
    ).toEqual(["duolingo", "spotify", "subwaysurfer"]);
    expect(await row("spotify").textContent()).toContain("app: candycrush · country: CA, US");
    expect(await row("subwaysurfer").textContent()).toContain("not country: DE");
    expect(await row("duolingo").textContent()).toContain("everyone");
    expect(await row("spotify").locator("svg.spark polyline").count()).toBe(1);
  });

  it("shows a mutation made elsewhere in the live feed and the table within 2 s, without reload", async () => {
    await page.locator("#feed-state.live").waitFor();
    const change = await graphqlClient(server.url)(CREATE, {
      input: campaign("calm", 7, { include: { countries: ["FR"] } }),
    });
    expect(change.errors).toBeUndefined();
    const started = Date.now();
    await page.locator(`#feed li[data-campaign="calm"]`).waitFor({ timeout: 2_000 });
    await row("calm").waitFor({ timeout: Math.max(1, 2_000 - (Date.now() - started)) });
    console.log(`mutation visible in feed and table after ${Date.now() - started} ms`);
    expect(await page.textContent(`#feed li[data-campaign="calm"]`)).toContain(
      `v${change.data?.createCampaign.version}`,
    );
  });

  it("pausing a campaign in the UI stops /v1/delivery from serving it", async () => {
    expect((await deliver(server.url, "candycrush", "ios", "CA")).cids).toContain("spotify");
    await row("spotify").locator("button[data-action=pause]").click();
    await row("spotify").locator("button[data-action=resume]").waitFor({ timeout: 5_000 });
    expect(await row("spotify").locator("td.status").textContent()).toBe("PAUSED");
    // The mutation returned propagated before the table reloaded: delivery already reflects it.
    expect((await deliver(server.url, "candycrush", "ios", "CA")).cids).not.toContain("spotify");
  });

  it("the try-a-device box shows what /v1/delivery serves", async () => {
    for (const [app, os, country] of [
      ["candycrush", "ios", "Canada"],
      ["anything", "ios", "DE"],
      ["anything", "android", "FR"],
    ] as const) {
      await page.fill("#device-app", app);
      await page.fill("#device-os", os);
      await page.fill("#device-country", country);
      await page.click("#device button[type=submit]");
      const expected = (await deliver(server.url, app, os, country)).cids;
      await page.locator("#device-result p").waitFor();
      await page.waitForFunction((n) => document.querySelectorAll("#device-result li").length === n, expected.length, {
        timeout: 5_000,
      });
      const shown = await page
        .locator("#device-result li")
        .evaluateAll((items) => items.map((li) => li.getAttribute("data-cid")));
      expect(shown).toEqual(expected);
    }
  });

  it("shows served counts and the replica status, and writes a screenshot", async () => {
    for (let i = 0; i < 12; i++) await deliver(server.url, "game", "ios", "US");
    // Counts reach the table on its next reload (every 5 s, or at once on a change, like this resume).
    await new Promise((r) => setTimeout(r, 700));
    await row("spotify").locator("button[data-action=resume]").click();
    await page.waitForFunction(
      // duolingo matches every device: the earlier tests' deliveries count too.
      () => Number(document.querySelector('#campaign-rows tr[data-cid="duolingo"] td.served')?.textContent) >= 12,
      undefined,
      { timeout: 6_000 },
    );
    await page.locator("#replica-rows tr").first().waitFor();
    expect(await page.locator("#replica-rows tr").count()).toBe(1);
    expect(await page.locator("#replica-rows td.num").nth(1).textContent()).toBe("0");
    await mkdir(path.join(ROOT, ".artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, ".artifacts/dashboard.png"), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) {
      const clip = { x: 0, y: 0, width: 1366, height: 600 };
      await page.screenshot({ path: path.join(ROOT, "docs/dashboard.png"), type: "png", clip });
    }
  });
  it("after the server restarts, the feed resumes from the last version seen (nothing missed meanwhile)", async () => {
    const env = { ...serverEnv, PORT: String(server.port) };
    await server.stop();
    await page.locator("#feed-state.down").waitFor({ timeout: 5_000 });
    // Changed while no server runs at all: only a replay from the last version seen can show it.
    await database.sql("UPDATE campaign SET priority = 3 WHERE id = 'subwaysurfer'");
    const [{ version }] = (await database.sql<{ version: number }>("SELECT version FROM change_counter")) as [
      { version: number },
    ];
    server = await startServer({ env });
    await page
      .locator(`#feed li[data-version="${version}"][data-campaign="subwaysurfer"]`)
      .waitFor({ timeout: 10_000 });
    await page.locator("#feed-state.live").waitFor();
    // Each version appears once: the replay skipped what the feed had already shown.
    const versions = await page
      .locator("#feed li")
      .evaluateAll((items) =>
        items.map((li) => `${li.getAttribute("data-version")}/${li.getAttribute("data-campaign")}`),
      );
    expect(new Set(versions).size).toBe(versions.length);
    await page.waitForFunction(
      () => document.querySelector('#campaign-rows tr[data-cid="subwaysurfer"] td.num')?.textContent === "3",
      undefined,
      { timeout: 5_000 },
    );
  });
});

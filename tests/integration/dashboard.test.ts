// The dashboard in a real browser (Debian's Chromium through playwright-core): sign in, the campaign
// list, the live feed (full id, name, what changed; a click opens the campaign), pause from the UI,
// "try a device" — all checked against what /v1/delivery serves — then the honest states: the replica
// going away (banner, feed paused) and coming back, a token the server no longer accepts (sign in
// again), and a viewer's read-only page.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, signIn, text, waitForText } from "../helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version } }`;
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { version propagated } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { version } }`;

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
  // The dashboard bundle is built (when stale) by the global setup, once for every file.
  database = await createTestDatabase();
  serverEnv = {
    DATABASE_URL: database.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("dashboard"),
    ADMIN_TOKEN,
    VIEWER_TOKEN,
    // The open page keeps connections alive; restarts here need not wait the default 10 s for them.
    SHUTDOWN_TIMEOUT_MS: "1000",
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
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
});

const row = (cid: string) => page.locator(`#campaign-rows [data-cid="${cid}"]`);
const feedRow = (cid: string) => page.locator(`#feed li[data-campaign="${cid}"]`);

describe("dashboard", () => {
  it("refuses an unknown token and signs in with the admin token", async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.fill("#token", "not-a-valid-token-0000");
    await page.click("#signin button[type=submit]");
    await page.locator("#signin-error").waitFor({ state: "visible" });
    expect(await text(page.locator("#signin-error"))).toContain("Unknown token");

    await signIn(page, server.url, ADMIN_TOKEN);
    expect(await text(page.locator("#role"))).toBe("admin");
    expect(await page.locator("#readonly-note").isVisible()).toBe(false);
  });

  it("lists the campaigns with how many of how many, status, flight, targeting and a sparkline", async () => {
    await row("duolingo").waitFor();
    expect(await text(page.locator("#campaign-count"))).toBe("3 of 3");
    expect(
      await page.locator("#campaign-rows .crow").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-cid"))),
    ).toEqual(["duolingo", "spotify", "subwaysurfer"]);
    expect(await text(row("spotify"))).toContain("app: candycrush · country: CA, US");
    expect(await text(row("spotify"))).toContain("Campaign spotify");
    expect(await text(row("subwaysurfer"))).toContain("not country: DE");
    expect(await text(row("duolingo"))).toContain("everyone");
    expect(await text(row("duolingo").locator(".flight"))).toBe("always on");
    expect(await row("spotify").locator("svg.spark polyline").count()).toBe(1);
  });

  it("shows changes made elsewhere in the feed (full id, name, what changed) and the list, without reload", async () => {
    await page.locator("#feed-state.pill-live").waitFor();
    const created = await graphqlClient(server.url)(CREATE, {
      input: campaign("calm-meditation-and-sleep-stories-2026", 7, { include: { countries: ["FR"] } }),
    });
    expect(created.errors).toBeUndefined();
    const item = feedRow("calm-meditation-and-sleep-stories-2026");
    await waitForText(item, "Campaign calm-meditation-and-sleep-stories-2026");
    expect(await text(item)).toContain(`v${created.data?.createCampaign.version}`);
    expect(await text(item)).toContain("created");
    expect(await text(item)).toContain("priority 7 · country FR");
    await row("calm-meditation-and-sleep-stories-2026").waitFor();
    expect(await text(page.locator("#campaign-count"))).toBe("4 of 4");

    const updated = await graphqlClient(server.url)(UPDATE, {
      id: "spotify",
      input: { priority: 12, targeting: { include: { apps: ["candycrush"], countries: ["CA", "US", "FR"] } } },
    });
    expect(updated.errors).toBeUndefined();
    // The page had spotify's previous state (its list row): the feed says what the update changed.
    await waitForText(feedRow("spotify"), "priority 10 → 12 · +country FR");
    await waitForText(row("spotify").locator(".priority"), "12");
  });

  it("opens the campaign from its feed row", async () => {
    await feedRow("calm-meditation-and-sleep-stories-2026").locator("a").click();
    await waitForText(page.locator("#campaign-name"), "Campaign calm-meditation-and-sleep-stories-2026");
    expect(await text(page.locator("#campaign-id"))).toBe("calm-meditation-and-sleep-stories-2026");
    expect(await text(page.locator('[data-section="targeting"]'))).toContain("FR");
    await page.click("#back");
    await row("spotify").waitFor();
  });

  it("pausing a campaign in the list stops /v1/delivery from serving it", async () => {
    expect((await deliver(server.url, "candycrush", "ios", "CA")).cids).toContain("spotify");
    await row("spotify").locator("button[data-action=pause]").click();
    await row("spotify").locator("button[data-action=resume]").waitFor();
    expect(await text(row("spotify").locator(".status"))).toBe("PAUSED");
    // The mutation returned propagated before the list refreshed: delivery already reflects it.
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
      await page.waitForFunction((n) => document.querySelectorAll("#device-result li").length === n, expected.length);
      const shown = await page
        .locator("#device-result li")
        .evaluateAll((items) => items.map((li) => li.getAttribute("data-cid")));
      expect(shown).toEqual(expected);
    }
  });

  it("shows served counts (refreshed by the next change) and the replica status", async () => {
    const gql = graphqlClient(server.url);
    for (let i = 0; i < 12; i++) await deliver(server.url, "game", "ios", "US");
    await expect
      .poll(
        async () =>
          (await gql(`{ campaign(id: "duolingo") { stats { servedLastHour } } }`)).data?.campaign.stats.servedLastHour,
        { timeout: 10_000, message: "duolingo's flushed served count" },
      )
      .toBeGreaterThanOrEqual(12);
    // The list refreshes on the change the feed reports, with the counts as they are then.
    expect((await gql(UPDATE, { id: "duolingo", input: { priority: 2 } })).errors).toBeUndefined();
    await page.waitForFunction(
      () => Number(document.querySelector('#campaign-rows [data-cid="duolingo"] .served')?.textContent) >= 12,
    );
    await page.locator("#replica-rows tr").first().waitFor();
    expect(await page.locator("#replica-rows tr").count()).toBe(1);
    expect(await text(page.locator("#replica-rows td.num").nth(1))).toBe("0");
    await mkdir(path.join(ROOT, ".artifacts"), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, ".artifacts/dashboard.png"), fullPage: true });
  });

  it("says when the replica is unreachable (time since last contact, feed paused) and resumes without a gap", async () => {
    const env = { ...serverEnv, PORT: String(server.port) };
    await server.stop();
    await page.locator("#banner").waitFor({ state: "visible" });
    expect(await text(page.locator("#banner"))).toContain("Cannot reach this replica");
    await waitForText(page.locator("#last-contact"), "Last contact");
    await waitForText(page.locator("#feed-state"), "paused");
    // Changed while no server runs at all: only a replay from the last version seen can show it.
    await database.sql("UPDATE campaign SET priority = 3 WHERE id = 'subwaysurfer'");
    const [{ version }] = (await database.sql<{ version: number }>("SELECT version FROM change_counter")) as [
      { version: number },
    ];
    server = await startServer({ env });
    const replayed = page.locator(`#feed li[data-version="${version}"][data-campaign="subwaysurfer"]`);
    await replayed.waitFor();
    await page.locator("#banner").waitFor({ state: "hidden" });
    await page.locator("#feed-state.pill-live").waitFor();
    await waitForText(replayed, "priority 5 → 3");
    // Each change appears once: the replay skipped what the feed had already shown.
    const items = await page
      .locator("#feed li.feed-item")
      .evaluateAll((lis) => lis.map((li) => `${li.getAttribute("data-version")}/${li.getAttribute("data-campaign")}`));
    expect(new Set(items).size).toBe(items.length);
    await waitForText(row("subwaysurfer").locator(".priority"), "3");
  });

  it("asks to sign in again, saying why, when the server restarts with another token", async () => {
    const env = { ...serverEnv, PORT: String(server.port), ADMIN_TOKEN: "a-new-admin-token-after-restart-0001" };
    await server.stop();
    server = await startServer({ env });
    await page.locator("#signin").waitFor({ state: "visible" });
    expect(await text(page.locator("#signin-reason"))).toContain("no longer accepts your token");
    expect(await page.locator("#app").isVisible()).toBe(false);
    expect(await page.locator("#role").isVisible()).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem("bullseye.token"))).toBeNull();

    await page.fill("#token", "a-new-admin-token-after-restart-0001");
    await page.click("#signin button[type=submit]");
    await row("spotify").waitFor();
    expect(await text(page.locator("#role"))).toBe("admin");
  });

  it("gives a viewer the same page, read-only: a note, and no edit, pause or create controls", async () => {
    const viewer = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      await signIn(viewer, server.url, VIEWER_TOKEN);
      await viewer.locator('#campaign-rows [data-cid="spotify"]').waitFor();
      expect(await text(viewer.locator("#role"))).toBe("viewer");
      expect(await text(viewer.locator("#readonly-note"))).toContain("Read-only");
      expect(await viewer.locator("#campaign-rows button").count()).toBe(0);
      expect(await viewer.locator("#new-campaign").count()).toBe(0);
      await viewer.locator('#campaign-rows [data-cid="spotify"] a.cid').click();
      await viewer.locator("#campaign-name").waitFor();
      expect(await viewer.locator("#edit, #delete, #toggle-status").count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });
});

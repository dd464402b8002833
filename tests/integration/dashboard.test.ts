// The dashboard in a real browser (Debian's Chromium through playwright-core): sign in, the campaign
// list, the live feed (full id, name, what changed; a click opens the campaign), pause from the UI,
// "try a device" — all checked against what /v1/delivery serves — then the honest states: the replica
// going away (banner, feed paused) and coming back, a token the server no longer accepts (sign in
// again), and a viewer's read-only page.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openSignedIn, signIn, text, waitForText } from "../helpers/browser.ts";
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

const COUNT = `{ campaignsPage(first: 1) { totalCount } }`;

let database: TestDatabase;
let server: RunningServer;
let browser: Browser;
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
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
});

/** Each test's own campaigns (ids unique in this file), through the API. */
async function seed(...campaigns: ReturnType<typeof campaign>[]) {
  const seeded = await graphqlClient(server.url)(IMPORT, { campaigns });
  expect(seeded.errors).toBeUndefined();
}

/** How many campaigns the server has, as the list's count shows them ("n of n" on one page). */
const total = async () => (await graphqlClient(server.url)(COUNT)).data?.campaignsPage.totalCount as number;

/** A page of its own for each test, signed in as the admin. */
const openPage = (): Promise<Page> => openSignedIn(browser, server.url, ADMIN_TOKEN, "ADMIN");

const row = (page: Page, cid: string) => page.locator(`#campaign-rows [data-cid="${cid}"]`);
const feedRow = (page: Page, cid: string) => page.locator(`#feed li[data-campaign="${cid}"]`);

describe("dashboard", () => {
  it("refuses an unknown token and signs in with the admin token", async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      await page.goto(`${server.url}/dashboard`);
      await page.fill("#token", "not-a-valid-token-0000");
      await page.click("#signin button[type=submit]");
      await page.locator("#signin-error").waitFor({ state: "visible" });
      expect(await text(page.locator("#signin-error"))).toContain("Unknown token");

      await signIn(page, server.url, ADMIN_TOKEN);
      expect(await text(page.locator("#role"))).toBe("admin");
      expect(await page.locator("#readonly-note").isVisible()).toBe(false);
    } finally {
      await page.close();
    }
  });

  it("lists the campaigns with how many of how many, status, flight, targeting and a sparkline", async () => {
    await seed(
      campaign("list-spotify", 10, { include: { apps: ["candycrush"], countries: ["CA", "US"] } }),
      campaign("list-subwaysurfer", 5, { include: { os: ["ios"] }, exclude: { countries: ["DE"] } }),
      campaign("list-duolingo", 1, {}),
    );
    const page = await openPage();
    try {
      await row(page, "list-duolingo").waitFor();
      const n = await total();
      expect(await text(page.locator("#campaign-count"))).toBe(`${n} of ${n}`);
      const ids = await page
        .locator("#campaign-rows .crow")
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-cid")));
      expect(ids).toHaveLength(n);
      expect(ids.filter((id) => id?.startsWith("list-"))).toEqual([
        "list-duolingo",
        "list-spotify",
        "list-subwaysurfer",
      ]);
      expect(await text(row(page, "list-spotify"))).toContain("app: candycrush · country: CA, US");
      expect(await text(row(page, "list-spotify"))).toContain("Campaign list-spotify");
      expect(await text(row(page, "list-subwaysurfer"))).toContain("not country: DE");
      expect(await text(row(page, "list-duolingo"))).toContain("everyone");
      expect(await text(row(page, "list-duolingo").locator(".flight"))).toBe("always on");
      expect(await row(page, "list-spotify").locator("svg.spark polyline").count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it("shows changes made elsewhere in the feed (full id, name, what changed) and the list, without reload", async () => {
    await seed(campaign("feed-spotify", 10, { include: { apps: ["candycrush"], countries: ["CA", "US"] } }));
    const page = await openPage();
    try {
      await page.locator("#feed-state.pill-live").waitFor();
      await row(page, "feed-spotify").waitFor();
      const before = await total();
      expect(await text(page.locator("#campaign-count"))).toBe(`${before} of ${before}`);
      const created = await graphqlClient(server.url)(CREATE, {
        input: campaign("calm-meditation-and-sleep-stories-2026", 7, { include: { countries: ["FR"] } }),
      });
      expect(created.errors).toBeUndefined();
      const item = feedRow(page, "calm-meditation-and-sleep-stories-2026");
      await waitForText(item, "Campaign calm-meditation-and-sleep-stories-2026");
      expect(await text(item)).toContain(`v${created.data?.createCampaign.version}`);
      expect(await text(item)).toContain("created");
      expect(await text(item)).toContain("priority 7 · country FR");
      await row(page, "calm-meditation-and-sleep-stories-2026").waitFor();
      // The list's ids and its total are two reads: a refresh in flight across the commit can show the
      // new row beside the old total for a moment; the refresh the feed queued then corrects it.
      await waitForText(page.locator("#campaign-count"), `${before + 1} of ${before + 1}`);
      expect(await text(page.locator("#campaign-count"))).toBe(`${before + 1} of ${before + 1}`);

      const updated = await graphqlClient(server.url)(UPDATE, {
        id: "feed-spotify",
        input: { priority: 12, targeting: { include: { apps: ["candycrush"], countries: ["CA", "US", "FR"] } } },
      });
      expect(updated.errors).toBeUndefined();
      // The page had the campaign's previous state (its list row): the feed says what the update changed.
      await waitForText(feedRow(page, "feed-spotify"), "priority 10 → 12 · +country FR");
      await waitForText(row(page, "feed-spotify").locator(".priority"), "12");
    } finally {
      await page.close();
    }
  });

  it("opens the campaign from its feed row", async () => {
    const page = await openPage();
    try {
      await page.locator("#feed-state.pill-live").waitFor();
      const created = await graphqlClient(server.url)(CREATE, {
        input: campaign("open-from-feed", 7, { include: { countries: ["FR"] } }),
      });
      expect(created.errors).toBeUndefined();
      await feedRow(page, "open-from-feed").locator("a").click();
      await waitForText(page.locator("#campaign-name"), "Campaign open-from-feed");
      expect(await text(page.locator("#campaign-id"))).toBe("open-from-feed");
      expect(await text(page.locator('[data-section="targeting"]'))).toContain("FR");
      await page.click("#back");
      await row(page, "open-from-feed").waitFor();
    } finally {
      await page.close();
    }
  });

  it("pausing a campaign in the list stops /v1/delivery from serving it", async () => {
    await seed(campaign("pause-spotify", 10, { include: { apps: ["candycrush"], countries: ["CA", "US"] } }));
    const page = await openPage();
    try {
      expect((await deliver(server.url, "candycrush", "ios", "CA")).cids).toContain("pause-spotify");
      await row(page, "pause-spotify").locator("button[data-action=pause]").click();
      await row(page, "pause-spotify").locator("button[data-action=resume]").waitFor();
      expect(await text(row(page, "pause-spotify").locator(".status"))).toBe("PAUSED");
      // The mutation returned propagated before the list refreshed: delivery already reflects it.
      expect((await deliver(server.url, "candycrush", "ios", "CA")).cids).not.toContain("pause-spotify");
    } finally {
      await page.close();
    }
  });

  it("the try-a-device box shows what /v1/delivery serves", async () => {
    // Something served to each device below, and something only to one of them.
    await seed(
      campaign("device-candycrush", 10, { include: { apps: ["candycrush"], countries: ["CA", "US"] } }),
      campaign("device-ios-not-de", 5, { include: { os: ["ios"] }, exclude: { countries: ["DE"] } }),
      campaign("device-everyone", 1, {}),
    );
    const page = await openPage();
    try {
      for (const [app, os, country, mine] of [
        ["candycrush", "ios", "Canada", ["device-candycrush", "device-ios-not-de", "device-everyone"]],
        ["anything", "ios", "DE", ["device-everyone"]],
        ["anything", "android", "FR", ["device-everyone"]],
      ] as const) {
        await page.fill("#device-app", app);
        await page.fill("#device-os", os);
        await page.fill("#device-country", country);
        await page.click("#device button[type=submit]");
        const expected = (await deliver(server.url, app, os, country)).cids;
        expect(expected.filter((cid) => cid.startsWith("device-"))).toEqual(mine);
        await page.waitForFunction((n) => document.querySelectorAll("#device-result li").length === n, expected.length);
        const shown = await page
          .locator("#device-result li")
          .evaluateAll((items) => items.map((li) => li.getAttribute("data-cid")));
        expect(shown).toEqual(expected);
      }
    } finally {
      await page.close();
    }
  });

  it("shows served counts (refreshed by the next change) and the replica status", async () => {
    await seed(campaign("served-duolingo", 1, { include: { apps: ["served-game"] } }));
    const page = await openPage();
    try {
      await row(page, "served-duolingo").waitFor();
      const gql = graphqlClient(server.url);
      for (let i = 0; i < 12; i++) await deliver(server.url, "served-game", "ios", "US");
      await expect
        .poll(
          async () =>
            (await gql(`{ campaign(id: "served-duolingo") { stats { servedLastHour } } }`)).data?.campaign.stats
              .servedLastHour,
          { timeout: 10_000, message: "served-duolingo's flushed served count" },
        )
        .toBeGreaterThanOrEqual(12);
      // The list refreshes on the change the feed reports, with the counts as they are then.
      expect((await gql(UPDATE, { id: "served-duolingo", input: { priority: 2 } })).errors).toBeUndefined();
      await page.waitForFunction(
        () => Number(document.querySelector('#campaign-rows [data-cid="served-duolingo"] .served')?.textContent) >= 12,
      );
      await page.locator("#replica-rows tr").first().waitFor();
      expect(await page.locator("#replica-rows tr").count()).toBe(1);
      expect(await text(page.locator("#replica-rows td.num").nth(1))).toBe("0");
      await mkdir(path.join(ROOT, ".artifacts"), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, ".artifacts/dashboard.png"), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it("says when the replica is unreachable (time since last contact, feed paused) and resumes without a gap", async () => {
    await seed(campaign("unreachable-subway", 5, { include: { os: ["ios"] } }));
    const page = await openPage();
    try {
      await row(page, "unreachable-subway").waitFor();
      await page.locator("#feed-state.pill-live").waitFor();
      const env = { ...serverEnv, PORT: String(server.port) };
      await server.stop();
      await page.locator("#banner").waitFor({ state: "visible" });
      expect(await text(page.locator("#banner"))).toContain("Cannot reach this replica");
      await waitForText(page.locator("#last-contact"), "Last contact");
      await waitForText(page.locator("#feed-state"), "paused");
      // Changed while no server runs at all: only a replay from the last version seen can show it.
      await database.sql("UPDATE campaign SET priority = 3 WHERE id = 'unreachable-subway'");
      const [{ version }] = (await database.sql<{ version: number }>("SELECT version FROM change_counter")) as [
        { version: number },
      ];
      server = await startServer({ env });
      const replayed = page.locator(`#feed li[data-version="${version}"][data-campaign="unreachable-subway"]`);
      await replayed.waitFor();
      await page.locator("#banner").waitFor({ state: "hidden" });
      await page.locator("#feed-state.pill-live").waitFor();
      await waitForText(replayed, "priority 5 → 3");
      // Each change appears once: the replay skipped what the feed had already shown.
      const items = await page
        .locator("#feed li.feed-item")
        .evaluateAll((lis) =>
          lis.map((li) => `${li.getAttribute("data-version")}/${li.getAttribute("data-campaign")}`),
        );
      expect(new Set(items).size).toBe(items.length);
      await waitForText(row(page, "unreachable-subway").locator(".priority"), "3");
    } finally {
      await page.close();
    }
  });

  it("asks to sign in again, saying why, when the server restarts with another token", async () => {
    await seed(campaign("token-spotify", 10, {}));
    const page = await openPage();
    const env = { ...serverEnv, PORT: String(server.port) };
    try {
      await row(page, "token-spotify").waitFor();
      await server.stop();
      server = await startServer({ env: { ...env, ADMIN_TOKEN: "a-new-admin-token-after-restart-0001" } });
      await page.locator("#signin").waitFor({ state: "visible" });
      expect(await text(page.locator("#signin-reason"))).toContain("no longer accepts your token");
      expect(await page.locator("#app").isVisible()).toBe(false);
      expect(await page.locator("#role").isVisible()).toBe(false);
      expect(await page.evaluate(() => sessionStorage.getItem("bullseye.token"))).toBeNull();

      await page.fill("#token", "a-new-admin-token-after-restart-0001");
      await page.click("#signin button[type=submit]");
      await row(page, "token-spotify").waitFor();
      expect(await text(page.locator("#role"))).toBe("admin");
    } finally {
      await page.close();
      // The other tests sign in with the admin token the file started with.
      await server.stop();
      server = await startServer({ env });
    }
  });

  it("gives a viewer the same page, read-only: a note, and no edit, pause or create controls", async () => {
    await seed(campaign("viewer-spotify", 10, {}));
    const viewer = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    try {
      await signIn(viewer, server.url, VIEWER_TOKEN);
      await viewer.locator('#campaign-rows [data-cid="viewer-spotify"]').waitFor();
      expect(await text(viewer.locator("#role"))).toBe("viewer");
      expect(await text(viewer.locator("#readonly-note"))).toContain("Read-only");
      expect(await viewer.locator("#campaign-rows button").count()).toBe(0);
      expect(await viewer.locator("#new-campaign").count()).toBe(0);
      await viewer.locator('#campaign-rows [data-cid="viewer-spotify"] a.cid').click();
      await viewer.locator("#campaign-name").waitFor();
      expect(await viewer.locator("#edit, #delete, #toggle-status").count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });
});

// The dashboard on a real catalog (3,000 campaigns; the docs' screenshots are taken on 12,000) and real screens (390, 768 and 1440 px wide), in
// Debian's Chromium: nothing wider than the screen and every control within reach (the campaign page with
// "Why not serving?" answered, the editor with its reach estimate); search, filters and paging on the
// server; an edit round-trip through a validation error and a conflict; create and delete. Screenshots
// of each width go to .artifacts/ (and to docs/ with UPDATE_DOCS_SCREENSHOTS=1).
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client.ts";
import { generateSynthetic, syntheticRequests } from "../../src/seed/synthetic.ts";
import { writeSeed } from "../../src/seed/write.ts";
import {
  controlsOffScreen,
  horizontalOverflow,
  launchChromium,
  openSignedIn,
  text,
  waitForText,
} from "../helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Thousands, so that every list is paged on the server; the docs' screenshots show the larger catalog. */
const CAMPAIGNS = process.env.UPDATE_DOCS_SCREENSHOTS ? 12_000 : 3_000;
/** A campaign near the end of the catalog ("c002873" of 3,000), and a name prefix eleven names share. */
const LATE = String(CAMPAIGNS - 127).padStart(6, "0");
const NAME_PREFIX = String(Math.floor((CAMPAIGNS - 127) / 10));
const APPS = 3_000;
const SCREENS = [
  { width: 390, height: 844 },
  { width: 768, height: 1024 },
  { width: 1440, height: 900 },
];
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { version campaign { revision } } }`;
const CAMPAIGN = `query($id: ID!) { campaign(id: $id) { name priority revision targeting { include { countries } } } }`;

let database: TestDatabase;
let server: RunningServer;
let browser: Browser;
let gql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  // The dashboard bundle is built (when stale) by the global setup, once for every file.
  database = await createTestDatabase();
  const db = createDb(database.url);
  try {
    await writeSeed(db, generateSynthetic({ campaigns: CAMPAIGNS, apps: APPS, namespace: "big" }));
  } finally {
    await db.$disconnect();
  }
  server = await startServer({
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_PREFIX: uniquePrefix("screens"),
      ADMIN_TOKEN,
      SHUTDOWN_TIMEOUT_MS: "1000",
    },
    timeoutMs: 60_000,
  });
  gql = graphqlClient(server.url);
  // Some traffic (served counts and sparklines) and a few changes (the feed) for the screenshots.
  const requests = syntheticRequests(200, APPS).map((r) => ({ ...r, app: r.app.replace("synthetic", "big") }));
  for (const r of requests) await deliver(server.url, r.app, r.os, r.country);
  for (const [id, priority] of [
    ["big-c000003", 990],
    ["big-c000001", 875],
  ] as const) {
    expect((await gql(UPDATE, { id, input: { priority } })).errors).toBeUndefined();
  }
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
});

/** "50 of <every campaign>", as the list's first page counts them (the server's total, whatever a test added). */
async function firstPageCount(): Promise<string> {
  const total = (await gql("{ campaignsPage(first: 1) { totalCount } }")).data?.campaignsPage.totalCount as number;
  return `50 of ${total.toLocaleString("en-US")}`;
}

async function openPage(width: number, height: number): Promise<Page> {
  const page = await openSignedIn(browser, server.url, ADMIN_TOKEN, "ADMIN", { width, height });
  await page.locator("#campaign-rows .crow").first().waitFor();
  return page;
}

/** The top of the page, or scrolled just enough to show `show` whole. */
async function screenshot(page: Page, name: string, show?: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  if (show) await page.locator(show).evaluate((el) => el.scrollIntoView({ block: "nearest" }));
  await mkdir(path.join(ROOT, ".artifacts"), { recursive: true });
  await page.screenshot({ path: path.join(ROOT, ".artifacts", name) });
  if (process.env.UPDATE_DOCS_SCREENSHOTS) await page.screenshot({ path: path.join(ROOT, "docs", name) });
}

describe.each(SCREENS)("at $width px", ({ width, height }) => {
  it("the list, a campaign page and its editor fit the screen, with every control in reach", async () => {
    const page = await openPage(width, height);
    try {
      await waitForText(page.locator("#campaign-count"), await firstPageCount());
      await page.locator("#feed li.feed-item").first().waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await controlsOffScreen(page)).toEqual([]);
      // Actionable: visible, inside the page, not covered by anything.
      for (const control of ["#search", "#sort", "#new-campaign", "#load-more", "#signout"]) {
        await page.locator(control).click({ trial: true });
      }
      await page.locator("#campaign-rows .crow").first().locator("button[data-action]").click({ trial: true });
      await screenshot(page, `dashboard-${width}.png`);

      await page.locator("#campaign-rows .crow a.cid").first().click();
      await page.locator("#campaign-name").waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      for (const control of ["#edit", "#toggle-status", "#delete", "#back", "#why-submit"]) {
        await page.locator(control).click({ trial: true });
      }
      // "Why not serving?" for a device outside its rules: the reasons in words.
      await page.fill("#why-app", "com.big.app1");
      await page.fill("#why-os", "ios");
      await page.fill("#why-country", "United States");
      await page.click("#why-submit");
      await page.locator("#why-verdict").waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await controlsOffScreen(page)).toEqual([]);
      await screenshot(page, `dashboard-campaign-${width}.png`, '[data-section="why"]');
      await page.click("#edit");
      await page.locator("#editor").waitFor();
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await controlsOffScreen(page)).toEqual([]);
      await page.locator("#save").click({ trial: true });
      await page.locator("#rules-include-countries").click({ trial: true });
      // The live reach estimate of the draft (200 requests were sent): without its app list, its
      // countries (CN, GR, UA) match some of them, as other campaigns do.
      await page.locator("#reach-share").waitFor({ timeout: 15_000 });
      const appChips = page.locator('[data-rules="rules-include-apps"] button.chip-remove');
      while ((await appChips.count()) > 0) await appChips.first().click();
      await page.locator("#reach-overlaps li").first().waitFor({ timeout: 15_000 });
      await page.locator("#reach.loading").waitFor({ state: "detached" });
      expect(await horizontalOverflow(page)).toBe(0);
      expect(await controlsOffScreen(page)).toEqual([]);
      await screenshot(page, `dashboard-editor-${width}.png`, "#reach");
    } finally {
      await page.close();
    }
  });
});

describe("among thousands of campaigns", () => {
  // A page of its own for each test, on the list: where one test left its page is no other's start.
  let page: Page;
  beforeEach(async () => {
    page = await openPage(1440, 900);
  });
  afterEach(async () => {
    await page?.close();
  });

  it("search finds a campaign by id or by name, on the server, and says how many of how many", async () => {
    const started = Date.now();
    await page.fill("#search", `c${LATE}`);
    await waitForText(page.locator("#campaign-count"), "1 of 1");
    console.log(
      `search among ${CAMPAIGNS}: result seen by the test ${Date.now() - started} ms after fill (polling included)`,
    );
    expect(
      await page.locator("#campaign-rows .crow").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-cid"))),
    ).toEqual([`big-c${LATE}`]);
    expect(page.url()).toContain(`q=c${LATE}`);

    // "Synthetic campaign 287" and 2870–2879 (of 3,000): eleven names, found whatever their case.
    await page.fill("#search", `SYNTHETIC CAMPAIGN ${NAME_PREFIX}`);
    await waitForText(page.locator("#campaign-count"), "11 of 11");
    await page.fill("#search", "no such campaign");
    await waitForText(page.locator("#campaigns-empty"), "No campaign matching “no such campaign”");
    await page.click("#campaigns-empty button");
    await waitForText(page.locator("#campaign-count"), await firstPageCount());
  });

  it("filters and orders on the server, and loads more pages on demand", async () => {
    const api = await gql(
      `{ campaignsPage(filter: { status: PAUSED, targets: { countries: ["DE"] } }, first: 1) { totalCount } }`,
    );
    const paused = api.data?.campaignsPage.totalCount as number;
    await page.selectOption("#filter-status", "PAUSED");
    await page.selectOption("#filter-dim", "countries");
    await page.fill("#filter-value", "Germany");
    await waitForText(page.locator("#campaign-count"), `of ${paused.toLocaleString("en-US")}`);
    await page.selectOption("#sort", "PRIORITY");
    await page.waitForFunction(() => location.hash.includes("sort=PRIORITY"));
    const priorities = () =>
      page.locator("#campaign-rows .priority").evaluateAll((cells) => cells.map((c) => Number(c.textContent)));
    await expect
      .poll(
        async () => {
          const shown = await priorities();
          return shown.length > 1 && shown.every((p, i) => i === 0 || (shown[i - 1] as number) >= p);
        },
        { message: "rows in priority order" },
      )
      .toBe(true);
    await waitForText(page.locator("#campaign-count"), `of ${paused.toLocaleString("en-US")}`);
    expect(await page.locator("#campaign-rows .crow.row-paused").count()).toBe((await priorities()).length);

    await page.goto(`${server.url}/dashboard#/`);
    await waitForText(page.locator("#campaign-count"), await firstPageCount());
    // The navigation just made can still replace the list (hashchange after load): a click that lands
    // on the list being replaced is lost with it, so click again until the next page shows.
    await expect
      .poll(
        async () => {
          const count = await text(page.locator("#campaign-count"));
          if (count.startsWith("50 of")) await page.click("#load-more");
          return count;
        },
        { message: "the second page loaded", timeout: 15_000, interval: 500 },
      )
      .toBe((await firstPageCount()).replace(/^50 of/, "100 of"));
    expect(await page.locator("#campaign-rows .crow").count()).toBe(100);
  });

  it("an edit round-trip: inline validation errors, then a conflict with someone else's change, overwritten", async () => {
    const id = "big-c000042";
    await page.goto(`${server.url}/dashboard#/campaign/${id}`);
    await page.click("#edit");
    await page.fill("#edit-priority", "5000");
    await page.fill("#rules-include-countries", "Narnia");
    await page.press("#rules-include-countries", "Enter");
    await page.click("#save");

    const priorityError = page.locator('[data-error-for="input.priority"]');
    await priorityError.waitFor();
    expect(await text(priorityError)).toBe("must be 0–1000");
    const bad = page.locator('[data-rules="rules-include-countries"] .chip.invalid');
    expect(await text(bad)).toContain("Narnia");
    expect(await text(page.locator('[data-rules="rules-include-countries"] .chip-errors'))).toContain(
      "“Narnia”: must be an ISO 3166-1 alpha-2 code or English country name",
    );
    expect(await text(page.locator(".form-summary"))).toContain("2 fields need attention");

    await page.fill("#edit-priority", "7");
    await bad.locator("button.chip-remove").click();
    await page.fill("#rules-include-countries", "Germany");
    await page.press("#rules-include-countries", "Enter");

    // Meanwhile someone else renames it.
    const theirs = await gql(UPDATE, { id, input: { name: "Renamed elsewhere" } });
    expect(theirs.errors).toBeUndefined();
    const theirRevision = theirs.data?.updateCampaign.campaign.revision as number;
    await waitForText(page.locator("#editor-notice"), `now revision ${theirRevision}`);

    await page.click("#save");
    const conflict = page.locator("#conflict");
    await waitForText(conflict, `Changed by someone else at revision ${theirRevision}`);
    expect(await text(conflict)).toContain("name “Synthetic campaign 42” → “Renamed elsewhere”");
    expect(await text(conflict)).toContain("priority");
    expect(await text(conflict)).toContain("+country Germany");

    await page.click("#conflict-overwrite");
    await waitForText(page.locator("#head-message"), `Saved: revision ${theirRevision + 1}`);
    const stored = (await gql(CAMPAIGN, { id })).data?.campaign;
    expect(stored).toMatchObject({ name: "Renamed elsewhere", priority: 7, revision: theirRevision + 1 });
    expect(stored.targeting.include.countries).toContain("DE");
    expect(stored.targeting.include.countries).not.toContain("Narnia");
    expect(await text(page.locator("#campaign-name"))).toBe("Renamed elsewhere");
  });

  it("a conflict can also be resolved by taking the other version", async () => {
    // Its own campaign (the round-trip above edits c000042), at a priority neither side sets.
    const id = "big-c000043";
    expect((await gql(UPDATE, { id, input: { priority: 5 } })).errors).toBeUndefined();
    await page.goto(`${server.url}/dashboard#/campaign/${id}`);
    await waitForText(page.locator('[data-section="flight"]'), "5 (0–1000");
    await page.click("#edit");
    await page.fill("#edit-priority", "8");
    expect((await gql(UPDATE, { id, input: { priority: 9 } })).errors).toBeUndefined();
    await page.click("#save");
    await page.locator("#conflict").waitFor();
    await page.click("#conflict-reload");
    expect(await page.inputValue("#edit-priority")).toBe("9");
    await page.click("#cancel-edit");
    await waitForText(page.locator('[data-section="flight"]'), "9 (0–1000");
  });

  it("creates a campaign from the form and deletes it", async () => {
    await page.goto(`${server.url}/dashboard#/`);
    await page.click("#new-campaign");
    await page.fill("#edit-id", "made-in-the-browser");
    await page.fill("#edit-name", "Made in the browser");
    await page.fill("#edit-image", "https://cdn.example/made.png");
    await page.fill("#edit-cta", "Try it");
    await page.fill("#rules-include-apps", "Some.App");
    await page.press("#rules-include-apps", "Enter");
    await page.click("#save");
    await waitForText(page.locator("#campaign-name"), "Made in the browser");
    expect(await text(page.locator('[data-section="targeting"]'))).toContain("some.app");
    expect((await deliver(server.url, "some.app", "ios", "US")).cids).toContain("made-in-the-browser");

    await page.click("#delete");
    await page.click("#confirm-delete");
    await page.waitForFunction(() => location.hash === "#/");
    expect((await gql(`{ campaign(id: "made-in-the-browser") { id } }`)).data?.campaign).toBeNull();
    expect((await deliver(server.url, "some.app", "ios", "US")).cids).not.toContain("made-in-the-browser");
  });
});

// "Why not serving?" on the campaign page and the editor's live reach estimate, in Debian's Chromium:
// the box says what /v1/delivery does for a device (the reasons in words when it does not serve it, or
// "Serving"), with the device as delivery sees it and inline field errors; the estimate follows the
// draft's rules over the traffic sent to the replica, agrees with the API's forecast, names what it
// overlaps and marks an invalid value without breaking the editor; both fit a 390 px screen.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  controlsOffScreen,
  horizontalOverflow,
  launchChromium,
  openSignedIn,
  text,
  waitForText,
} from "../helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, deliver, graphqlClient, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const ARTIFACTS = path.resolve(import.meta.dirname, "../../.artifacts");
const IMPORT = `mutation($campaigns: [CreateCampaignInput!]!) { importCampaigns(campaigns: $campaigns) { version propagated } }`;
const CATEGORY = `mutation($input: CategoryInput!) { upsertCategory(input: $input) { version propagated } }`;
const FORECAST = `query($targeting: TargetingInput!) { forecast(targeting: $targeting) { sampledRequests matchingShare } }`;

const campaign = (id: string, patch: object = {}) => ({
  id,
  name: `Campaign ${id}`,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: "Go",
  ...patch,
});

let database: TestDatabase;
let serverEnv: Record<string, string>;
let server: RunningServer;
let browser: Browser;
let gql: ReturnType<typeof graphqlClient>;

beforeAll(async () => {
  // The dashboard bundle is built (when stale) by the global setup, once for every file.
  database = await createTestDatabase();
  serverEnv = {
    DATABASE_URL: database.url,
    REDIS_URL: SHARED_REDIS_URL,
    REDIS_PREFIX: uniquePrefix("insights"),
    ADMIN_TOKEN,
    VIEWER_TOKEN,
    SHUTDOWN_TIMEOUT_MS: "1000",
  };
  server = await startServer({ env: serverEnv });
  gql = graphqlClient(server.url);
  for (const [id, apps] of [
    ["games", ["candycrush", "subwaysurfers"]],
    ["news", ["nytimes"]],
    ["music", ["spotify"]],
  ] as const) {
    expect((await gql(CATEGORY, { input: { id, name: id, apps } })).errors).toBeUndefined();
  }
  const imported = await gql(IMPORT, {
    campaigns: [
      campaign("paused-us", { status: "PAUSED", targeting: { include: { countries: ["US"] } } }),
      campaign("us-ca", { targeting: { include: { countries: ["US", "CA"] } } }),
      campaign("later", { startsAt: "2099-01-01T00:00:00Z" }),
      campaign("no-spotify", { targeting: { exclude: { apps: ["spotify"] } } }),
      campaign("games-news", { targeting: { include: { categories: ["games", "news"] } } }),
    ],
  });
  expect(imported.data?.importCampaigns.propagated).toBe(true);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
});

const openPage = (token = ADMIN_TOKEN, width = 1366, height = 900, on = server): Promise<Page> =>
  openSignedIn(browser, on.url, token, token === VIEWER_TOKEN ? "VIEWER" : "ADMIN", { width, height });

async function openCampaign(page: Page, id: string, on = server): Promise<void> {
  await page.goto(`${on.url}/dashboard#/campaign/${id}`);
  await waitForText(page.locator("#campaign-id"), id);
  await page.locator("#why").waitFor();
}

/** Asks the box about a device and waits for the answer about that device. */
async function explain(page: Page, app: string, os: string, country: string): Promise<void> {
  await page.fill("#why-app", app);
  await page.fill("#why-os", os);
  await page.fill("#why-country", country);
  await page.evaluate(() => document.querySelector("#why-result")?.replaceChildren());
  await page.click("#why-submit");
  await page.locator("#why-verdict, #why .field-error:not([hidden])").first().waitFor();
}

const reasons = (page: Page) =>
  page.locator("#why-reasons li").evaluateAll((items) => items.map((li) => li.textContent?.trim()));

/** The editor's estimate once it shows the share the API's forecast gives for `countries`. */
async function expectShareOf(page: Page, countries: string[]): Promise<string> {
  const api = (await gql(FORECAST, { targeting: { include: { countries } } })).data?.forecast;
  const expected = new Intl.NumberFormat("en-US", { style: "percent", maximumFractionDigits: 1 }).format(
    api.matchingShare,
  );
  await expect
    .poll(
      async () =>
        (await page
          .locator("#reach-share")
          .textContent()
          .catch(() => null)) ?? "(none)",
      {
        message: `estimate for countries ${countries.join(", ")} (API: ${expected})`,
        timeout: 15_000,
      },
    )
    .toBe(expected);
  return expected;
}

describe("the editor's reach estimate before any traffic", () => {
  it("says no traffic was sampled yet", async () => {
    // Its own database and replica (own Redis prefix): no other test's requests reach its sample.
    const own = await createTestDatabase();
    const fresh = await startServer({
      env: { ...serverEnv, DATABASE_URL: own.url, REDIS_PREFIX: uniquePrefix("insights-no-traffic") },
    });
    try {
      const imported = await graphqlClient(fresh.url)(IMPORT, {
        campaigns: [campaign("us-ca", { targeting: { include: { countries: ["US", "CA"] } } })],
      });
      expect(imported.errors).toBeUndefined();
      const page = await openPage(ADMIN_TOKEN, 1366, 900, fresh);
      try {
        await openCampaign(page, "us-ca", fresh);
        await page.click("#edit");
        await waitForText(page.locator("#reach"), "No traffic sampled yet");
        expect(await text(page.locator("#reach"))).toContain("1 replica answered");
      } finally {
        await page.close();
      }
    } finally {
      await fresh.stop();
      await own.drop();
    }
  });
});

describe("why not serving?", () => {
  // A page of its own for each test (what one test typed or tried never prefills another's box).
  let page: Page;
  beforeEach(async () => {
    page = await openPage();
  });
  afterEach(async () => {
    await page?.close();
  });

  it("starts with the device last tried in the try-a-device box", async () => {
    await page.fill("#device-app", "nytimes");
    await page.fill("#device-os", "android");
    await page.fill("#device-country", "Canada");
    await page.click("#device button[type=submit]");
    await page.locator("#device-result p").waitFor();
    await openCampaign(page, "us-ca");
    expect(await page.inputValue("#why-app")).toBe("nytimes");
    expect(await page.inputValue("#why-os")).toBe("android");
    expect(await page.inputValue("#why-country")).toBe("Canada");
  });

  it("gives every reason in words, or Serving, exactly as /v1/delivery serves", async () => {
    const cases: [string, [string, string, string], string[]][] = [
      ["paused-us", ["candycrush", "ios", "US"], ["Paused"]],
      ["paused-us", ["candycrush", "ios", "DE"], ["Paused", "Country DE is not in its list: US"]],
      ["us-ca", ["candycrush", "ios", "DE"], ["Country DE is not in its list: US, CA"]],
      ["us-ca", ["candycrush", "ios", "united states"], []],
      ["later", ["candycrush", "ios", "US"], ["Starts 1 Jan 2099 00:00 UTC"]],
      ["no-spotify", ["Spotify", "android", "FR"], ["App spotify is excluded"]],
      ["no-spotify", ["tiktok", "android", "FR"], []],
      ["games-news", ["spotify", "ios", "US"], ["In no included category: games, news"]],
      ["games-news", ["candycrush", "ios", "US"], []],
    ];
    for (const [id, [app, os, country], expected] of cases) {
      await openCampaign(page, id);
      await explain(page, app, os, country);
      const served = await deliver(server.url, app, os, country);
      const verdict = await text(page.locator("#why-verdict"));
      expect(served.cids.includes(id), `${id} for ${app}/${os}/${country}: ${verdict}`).toBe(expected.length === 0);
      if (expected.length === 0) expect(verdict).toBe("Serving this device now");
      else {
        expect(verdict).toContain("Not serving this device");
        expect(await reasons(page)).toEqual(expected);
      }
      expect(await text(page.locator("#why-version"))).toBe(`index v${served.version}`);
    }
  });

  it("shows the device as delivery sees it, with its app's categories", async () => {
    await openCampaign(page, "games-news");
    await explain(page, " CandyCrush ", "IOS", "germany");
    expect(await text(page.locator("#why-device"))).toContain(
      "app candycrush · os ios · country DE · categories games",
    );
  });

  it("puts the server's field errors next to their input, and clears them on a good answer", async () => {
    await openCampaign(page, "us-ca");
    await explain(page, "candycrush", "ios", "Atlantis");
    const error = page.locator('#why [data-error-for="country"]');
    await error.waitFor();
    expect(await text(error)).toContain("not an ISO 3166-1 alpha-2 code or English country name");
    expect(await page.getAttribute("#why-country", "aria-invalid")).toBe("true");
    expect(await page.locator("#why-verdict").count()).toBe(0);
    await explain(page, "candycrush", "ios", "CA");
    expect(await text(page.locator("#why-verdict"))).toBe("Serving this device now");
    expect(await error.isVisible()).toBe(false);
    expect(await page.getAttribute("#why-country", "aria-invalid")).toBeNull();
  });

  it("asks again when the campaign changes while an answer is shown, keeping what was typed", async () => {
    // Its own campaign: pausing, resuming and editing it changes nothing another test reads.
    const imported = await gql(IMPORT, {
      campaigns: [campaign("toggled-us-ca", { targeting: { include: { countries: ["US", "CA"] } } })],
    });
    expect(imported.errors).toBeUndefined();
    await openCampaign(page, "toggled-us-ca");
    await explain(page, "candycrush", "ios", "CA");
    expect(await text(page.locator("#why-verdict"))).toBe("Serving this device now");
    await page.click("#toggle-status");
    await waitForText(page.locator("#why-reasons"), "Paused");
    expect(await page.inputValue("#why-country")).toBe("CA");
    await page.click("#toggle-status");
    await waitForText(page.locator("#why-verdict"), "Serving this device now");
    // A change made elsewhere reloads the page: the box stays as it is, the focus in it.
    await page.focus("#why-app");
    const revision = await text(page.locator("#campaign-revision"));
    const changed = await gql(
      `mutation { updateCampaign(id: "toggled-us-ca", input: { priority: 3 }) { campaign { revision } } }`,
    );
    await waitForText(page.locator("#campaign-revision"), `revision ${changed.data?.updateCampaign.campaign.revision}`);
    expect(revision).not.toBe(await text(page.locator("#campaign-revision")));
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("why-app");
    expect(await page.inputValue("#why-country")).toBe("CA");
  });

  it("works for a viewer too", async () => {
    const viewer = await openPage(VIEWER_TOKEN);
    try {
      await openCampaign(viewer, "paused-us");
      await explain(viewer, "candycrush", "ios", "US");
      expect(await reasons(viewer)).toEqual(["Paused"]);
    } finally {
      await viewer.close();
    }
  });
});

describe("the editor's reach estimate", () => {
  beforeAll(async () => {
    // Traffic first: 200 requests, each country a known share (US 50%, CA 20%, DE 20%, FR 10%).
    const countries = ["US", "US", "US", "US", "US", "CA", "CA", "DE", "DE", "FR"];
    for (let i = 0; i < 200; i++) {
      await deliver(
        server.url,
        i % 3 ? "candycrush" : "spotify",
        i % 2 ? "ios" : "android",
        countries[i % 10] as string,
      );
    }
  });
  // A page of its own for each test, with us-ca's editor open (never saved): its draft rules are
  // what the test sets.
  let page: Page;
  beforeEach(async () => {
    page = await openPage();
    await openCampaign(page, "us-ca");
    await page.click("#edit");
    await expectShareOf(page, ["US", "CA"]);
  });
  afterEach(async () => {
    await page?.close();
  });

  const addCountry = async (country: string) => {
    await page.fill("#rules-include-countries", country);
    await page.press("#rules-include-countries", "Enter");
  };
  const removeCountry = (country: string) =>
    page.locator(`[data-rules="rules-include-countries"] .chip[data-value="${country}"] button.chip-remove`).click();
  /** The draft's countries: Germany alone (US and CA removed), its estimate shown. */
  const draftGermany = async () => {
    await addCountry("Germany");
    await removeCountry("US");
    await removeCountry("CA");
    await expectShareOf(page, ["DE"]);
  };

  it("shows the share, requests per hour, replicas and overlaps of the draft's rules", async () => {
    const rate = Number((await text(page.locator("#reach-rate"))).replace(/,/g, ""));
    expect(rate).toBeGreaterThan(0);
    expect(await text(page.locator("#reach-replicas"))).toBe("1");
    const overlaps = page.locator("#reach-overlaps li");
    await overlaps.first().waitFor();
    const shown = await overlaps.evaluateAll((items) => items.map((li) => li.getAttribute("data-cid")));
    // ACTIVE campaigns that match the same requests (the paused one does not count).
    expect(shown).toContain("no-spotify");
    expect(shown).not.toContain("paused-us");
    expect(await page.getAttribute('#reach-overlaps li[data-cid="no-spotify"] a', "href")).toBe(
      "#/campaign/no-spotify",
    );
    expect(await text(page.locator('#reach-overlaps li[data-cid="us-ca"]'))).toContain("this one, as saved");
    // A link opens that campaign in a new tab of the same session; the draft stays open here.
    const [popup] = await Promise.all([
      page.waitForEvent("popup"),
      page.click('#reach-overlaps li[data-cid="no-spotify"] a'),
    ]);
    try {
      await waitForText(popup.locator("#campaign-id"), "no-spotify");
    } finally {
      await popup.close();
    }
    expect(await page.locator("#editor").isVisible()).toBe(true);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.locator("#reach").screenshot({ path: path.join(ARTIFACTS, "insights-reach.png") });
  });

  it("follows the rules as they are edited (the previous figure stays while the next loads)", async () => {
    await addCountry("Germany");
    // Right after the change the last figure is still there (dimmed while the next is on its way).
    expect(await page.locator("#reach-share").isVisible()).toBe(true);
    await expectShareOf(page, ["US", "CA", "DE"]);
    await removeCountry("US");
    await removeCountry("CA");
    await expectShareOf(page, ["DE"]);
    expect(await page.locator("#reach.loading").count()).toBe(0);
  });

  it("a newer draft supersedes the estimate in flight: aborted, its answer never shown", async () => {
    const forecasts: Request[] = [];
    let secondSent: () => void = () => undefined;
    const second = new Promise<void>((resolve) => {
      secondSent = resolve;
    });
    await draftGermany();
    await page.route("**/graphql", async (route) => {
      const request = route.request();
      if ((request.postData() ?? "").includes("query Forecast")) {
        forecasts.push(request);
        // The first is held until the next draft's request is out.
        if (forecasts.length === 1) await second;
        else secondSent();
      }
      await route.continue().catch(() => undefined);
    });
    try {
      await addCountry("France");
      await expect.poll(() => forecasts.length, { message: "the estimate for DE + France was asked" }).toBe(1);
      await removeCountry("France");
      await expect.poll(() => forecasts.length, { message: "the estimate for DE alone was asked" }).toBe(2);
      await expectShareOf(page, ["DE"]);
      expect(forecasts[0]?.failure()?.errorText, "the superseded request was aborted").toBeTruthy();
    } finally {
      await page.unroute("**/graphql");
    }
  });

  it("marks an invalid country inline and keeps the editor working", async () => {
    await draftGermany();
    await addCountry("Narnia");
    const error = page.locator("#reach-error");
    await waitForText(error, "“Narnia”: must be an ISO 3166-1 alpha-2 code or English country name");
    await page.locator('[data-rules="rules-include-countries"] .chip.invalid[data-value="Narnia"]').waitFor();
    // Still editable: remove it and the estimate comes back.
    await removeCountry("Narnia");
    await expectShareOf(page, ["DE"]);
    expect(await error.count()).toBe(0);
    // Nothing was saved by estimating.
    const stored = (await gql(`{ campaign(id: "us-ca") { targeting { include { countries } } } }`)).data?.campaign;
    expect([...stored.targeting.include.countries].sort()).toEqual(["CA", "US"]);
    await page.click("#cancel-edit");
  });

  it("at 390 px the box and the estimate fit without horizontal overflow", async () => {
    const phone = await openPage(ADMIN_TOKEN, 390, 844);
    try {
      await openCampaign(phone, "us-ca");
      await explain(phone, "candycrush", "ios", "DE");
      await phone.locator("#why-reasons").waitFor();
      expect(await horizontalOverflow(phone)).toBe(0);
      expect(await controlsOffScreen(phone)).toEqual([]);
      await phone.locator("#why-submit").click({ trial: true });
      await mkdir(ARTIFACTS, { recursive: true });
      await phone.screenshot({ path: path.join(ARTIFACTS, "insights-why-390.png"), fullPage: true });
      await phone.click("#edit");
      await phone.locator("#reach-share").waitFor({ timeout: 15_000 });
      await phone.locator("#reach-overlaps li").first().waitFor();
      expect(await horizontalOverflow(phone)).toBe(0);
      expect(await controlsOffScreen(phone)).toEqual([]);
      await phone.locator("#reach-overlaps a").first().click({ trial: true });
      await phone.locator("#reach").scrollIntoViewIfNeeded();
      await phone.screenshot({ path: path.join(ARTIFACTS, "insights-reach-390.png") });
    } finally {
      await phone.close();
    }
  });
});

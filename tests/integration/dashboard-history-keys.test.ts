// Issue 16 in the dashboard, in a real browser (Debian's Chromium through playwright-core): feed rows
// and the campaign page say who made a change and why; the campaign page lists its revisions with what
// each changed; Revert writes the old state as a new revision (checked through GraphQL), says so when
// someone changed the campaign meanwhile, and is absent for a viewer; a deleted campaign's history (its
// feed row leads to it) can restore it; the API keys page creates a key whose secret is shown once and
// works as a bearer token, and revoking it makes GraphQL refuse it. At 390 px nothing is wider than the
// screen.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  controlsOffScreen,
  horizontalOverflow,
  launchChromium,
  openSignedIn,
  text,
  waitForText,
} from "../helpers/browser.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { ADMIN_TOKEN, codes, graphqlClient, type Loose, VIEWER_TOKEN } from "../helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../helpers/redis.ts";
import { type RunningServer, startServer } from "../helpers/server.ts";

const CREATE = `mutation($input: CreateCampaignInput!, $reason: String) {
  createCampaign(input: $input, reason: $reason) { version } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!, $reason: String) {
  updateCampaign(id: $id, input: $input, reason: $reason) { version campaign { revision } } }`;
const DELETE = `mutation($id: ID!, $reason: String) { deleteCampaign(id: $id, reason: $reason) { version } }`;
const DIMS = "apps countries os categories";
const STATE = `id name imageUrl cta status priority startsAt endsAt targeting { include { ${DIMS} } exclude { ${DIMS} } }`;
const HISTORY = `query($id: ID!) { campaignHistory(id: $id, first: 50) { revision actor reason deleted campaign { ${STATE} } } }`;

const ARTIFACTS = path.resolve(import.meta.dirname, "../../.artifacts");

let database: TestDatabase;
let server: RunningServer;
let browser: Browser;

const gql = (query: string, variables: Record<string, unknown> = {}) => graphqlClient(server.url)(query, variables);

async function ok(query: string, variables: Record<string, unknown>): Promise<Loose> {
  const res = await gql(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data as Loose;
}

async function history(id: string): Promise<Loose[]> {
  return (await ok(HISTORY, { id })).campaignHistory;
}

const newCampaign = (id: string, priority: number, countries: string[]) => ({
  id,
  name: `Campaign ${id}`,
  imageUrl: `https://cdn.example/${id}.png`,
  cta: `Get ${id}`,
  priority,
  targeting: { include: { countries } },
});

/**
 * A test's own campaign with the history the tests read: revision 1 created ("launch", priority 10,
 * US), 2 "more reach" (priority 12), then, up to `revisions`, 3 "France opens" (+FR), 4 back to
 * revision 1's state ("France was a mistake"), 5 a copy edit.
 */
async function campaignWithHistory(id: string, revisions: number): Promise<void> {
  await ok(CREATE, { input: newCampaign(id, 10, ["US"]), reason: "launch" });
  const updates = [
    { input: { priority: 12 }, reason: "more reach" },
    { input: { targeting: { include: { countries: ["US", "FR"] } } }, reason: "France opens" },
    { input: { priority: 10, targeting: { include: { countries: ["US"] } } }, reason: "France was a mistake" },
    { input: { cta: "Listen now" }, reason: "copy edit" },
  ];
  for (const update of updates.slice(0, revisions - 1)) await ok(UPDATE, { id, ...update });
}

const openPage = (token = ADMIN_TOKEN, width = 1366, height = 900): Promise<Page> =>
  openSignedIn(browser, server.url, token, token === VIEWER_TOKEN ? "VIEWER" : "ADMIN", { width, height });

async function openCampaign(page: Page, id: string): Promise<void> {
  await page.goto(`${server.url}/dashboard#/campaign/${id}`);
  await waitForText(page.locator("#campaign-id"), id);
}

beforeAll(async () => {
  // The dashboard bundle is built (when stale) by the global setup, once for every file.
  database = await createTestDatabase();
  server = await startServer({
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: SHARED_REDIS_URL,
      REDIS_PREFIX: uniquePrefix("dashboard-history"),
      ADMIN_TOKEN,
      VIEWER_TOKEN,
      SHUTDOWN_TIMEOUT_MS: "1000",
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await database?.drop();
});

const feedRow = (page: Page, cid: string) => page.locator(`#feed li[data-campaign="${cid}"]`);
const revisionRow = (page: Page, n: number) => page.locator(`#history li.revision[data-revision="${n}"]`);

describe("who changed what, in the dashboard", () => {
  it("feed rows say who made the change and why", async () => {
    await campaignWithHistory("feed-spotify", 2);
    await ok(CREATE, { input: newCampaign("feed-gone-soon", 3, ["DE"]) });
    const page = await openPage();
    try {
      await page.locator("#feed-state.pill-live").waitFor();
      // From before the page opened (read back from the change log), then a live one.
      await waitForText(feedRow(page, "feed-spotify"), "by env-admin · more reach");
      await ok(UPDATE, {
        id: "feed-spotify",
        input: { targeting: { include: { countries: ["US", "FR"] } } },
        reason: "France opens",
      });
      const live = feedRow(page, "feed-spotify").filter({ hasText: "France opens" });
      await waitForText(live, "+country FR");
      expect(await text(live)).toContain("by env-admin · France opens");
      await waitForText(feedRow(page, "feed-gone-soon"), "no reason given");
    } finally {
      await page.close();
    }
  });

  it("the campaign page says who made the current revision and lists every revision with its diff", async () => {
    await campaignWithHistory("page-spotify", 3);
    const page = await openPage();
    try {
      await openCampaign(page, "page-spotify");
      await waitForText(page.locator("#campaign-last-change"), "by env-admin · France opens");
      await revisionRow(page, 1).waitFor();
      expect(
        await page
          .locator("#history li.revision")
          .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-revision"))),
      ).toEqual(["3", "2", "1"]);
      expect(await text(revisionRow(page, 3))).toContain("current");
      expect(await text(revisionRow(page, 3))).toContain("+country FR");
      expect(await text(revisionRow(page, 3))).toContain("by env-admin · France opens");
      expect(await text(revisionRow(page, 2).locator(".revision-diff"))).toBe("priority 10 → 12");
      expect(await text(revisionRow(page, 2))).toContain("more reach");
      expect(await text(revisionRow(page, 1).locator(".revision-diff"))).toBe(
        "created: ACTIVE · priority 10 · country US",
      );
      // The whole state of a revision is there too.
      await revisionRow(page, 1).locator("summary").click();
      expect(await text(revisionRow(page, 1).locator(".revision-state"))).toContain("Get page-spotify");
      // The current revision and nothing else has no Revert.
      expect(await revisionRow(page, 3).locator("button[data-action=revert]").count()).toBe(0);
      expect(await revisionRow(page, 1).locator("button[data-action=revert]").count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it("Revert as admin writes revision 1's state as a new revision, with the reason given", async () => {
    await campaignWithHistory("revert-spotify", 3);
    const page = await openPage();
    try {
      await openCampaign(page, "revert-spotify");
      await revisionRow(page, 3).waitFor();
      await revisionRow(page, 1).locator("button[data-action=revert]").click();
      await page.fill("#revert-reason", "France was a mistake");
      await page.click("#confirm-revert");
      await waitForText(page.locator("#history-message"), "Reverted to revision 1's state: it is now revision 4");
      await waitForText(revisionRow(page, 4), "current");
      expect(await text(revisionRow(page, 4).locator(".revision-diff"))).toBe("priority 12 → 10 · −country FR");
      await waitForText(page.locator("#campaign-last-change"), "France was a mistake");

      const revisions = await history("revert-spotify");
      expect(revisions[0]).toMatchObject({ revision: 4, actor: "env-admin", reason: "France was a mistake" });
      expect(revisions[0]?.campaign).toEqual(revisions.find((r) => r.revision === 1)?.campaign);
    } finally {
      await page.close();
    }
  });

  it("a change made meanwhile is a conflict, said in words, and Reload shows it", async () => {
    await campaignWithHistory("conflict-spotify", 4);
    const page = await openPage();
    try {
      await openCampaign(page, "conflict-spotify");
      await waitForText(revisionRow(page, 4), "current");
      // Hold the page's own re-reads back so it still shows revision 4 when the revert is sent.
      await page.route("**/graphql", (route) =>
        route.request().postData()?.includes("query Campaign(") ? route.abort() : route.continue(),
      );
      await revisionRow(page, 2).locator("button[data-action=revert]").click();
      await ok(UPDATE, { id: "conflict-spotify", input: { cta: "Listen now" }, reason: "copy edit" });
      await page.fill("#revert-reason", "too late");
      await page.click("#confirm-revert");
      const message = page.locator("#history-message");
      await waitForText(message, "someone changed this campaign meanwhile (it is at revision 5 now, not 4)");
      expect(await text(message)).not.toContain("CONFLICT");
      await page.unroute("**/graphql");
      await page.click("#history-reload");
      await waitForText(revisionRow(page, 5), "copy edit");
      expect((await history("conflict-spotify"))[0]).toMatchObject({ revision: 5, reason: "copy edit" });
    } finally {
      await page.close();
    }
  });

  it("a deleted campaign's page shows its history, from which an admin restores it", async () => {
    await ok(CREATE, { input: newCampaign("gone-soon", 3, ["DE"]) });
    const page = await openPage();
    try {
      await page.locator("#feed-state.pill-live").waitFor();
      await ok(DELETE, { id: "gone-soon", reason: "season over" });
      // Its feed row leads there.
      const deletion = feedRow(page, "gone-soon").filter({ has: page.locator(".kind-campaign-deleted") });
      await waitForText(deletion, "season over");
      await deletion.locator("a").click();
      await waitForText(revisionRow(page, 2), "deleted");
      expect(await text(revisionRow(page, 2))).toContain("season over");
      await revisionRow(page, 1).locator("button[data-action=revert]").click();
      await page.click("#confirm-revert");
      await waitForText(page.locator("#campaign-name"), "Campaign gone-soon");
      const [restored, deleted, created] = await history("gone-soon");
      expect(deleted?.deleted).toBe(true);
      expect(restored?.campaign).toEqual(created?.campaign);
    } finally {
      await page.close();
    }
  });

  it("gives a viewer the history without Revert, and no keys page", async () => {
    await campaignWithHistory("viewer-spotify", 5);
    const viewer = await openPage(VIEWER_TOKEN);
    try {
      expect(await viewer.locator("#nav-keys").isVisible()).toBe(false);
      await viewer.goto(`${server.url}/dashboard#/campaign/viewer-spotify`);
      await revisionRow(viewer, 1).waitFor();
      expect(await viewer.locator("#history li.revision").count()).toBe(5);
      expect(await viewer.locator("button[data-action=revert]").count()).toBe(0);
      await viewer.goto(`${server.url}/dashboard#/keys`);
      await viewer.locator("#campaign-rows").waitFor();
      expect(await viewer.locator("#key-form").count()).toBe(0);
    } finally {
      await viewer.close();
    }
  });

  it("creates a key whose secret is shown once and works as a bearer token; revoking it refuses it", async () => {
    const page = await openPage();
    try {
      await page.click("#nav-keys");
      await page.locator("#key-form").waitFor();
      await page.fill("#key-name", "ci-bot");
      await page.selectOption("#key-role", "VIEWER");
      await page.click("#create-key");
      await waitForText(page.locator("#new-key"), "you won't see it again");
      const secret = await page.inputValue("#new-key-secret");
      expect(secret).toMatch(/^bsk_/);
      await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
      await page.click("#copy-key");
      await waitForText(page.locator("#copy-state"), "Copied.");
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
      expect((await graphqlClient(server.url, secret)("{ me { name role } }")).data?.me).toEqual({
        name: "ci-bot",
        role: "VIEWER",
      });
      const row = page.locator('#keys li[data-key-name="ci-bot"]');
      await waitForText(row, "viewer");

      // Errors in words, next to what caused them.
      await page.fill("#key-name", "ci-bot");
      await page.click("#create-key");
      await waitForText(page.locator("#key-error"), "An API key named ci-bot exists");
      expect(await text(page.locator("#key-error"))).not.toMatch(/CONFLICT/);
      await page.fill("#key-name", "env-thing");
      await page.click("#create-key");
      await waitForText(page.locator("#key-name-error"), "reserved");

      // Once dismissed, and after a reload, the secret is nowhere on the page.
      await page.click("#dismiss-key");
      await page.reload();
      await row.waitFor();
      expect(await page.content()).not.toContain(secret);

      await row.locator("button[data-action=revoke]").click();
      await row.locator("button[data-action=confirm-revoke]").click();
      await waitForText(row, "revoked");
      await expect
        .poll(async () => codes(await graphqlClient(server.url, secret)("{ me { name } }")), {
          message: "GraphQL refuses the revoked key",
          timeout: 5_000,
        })
        .toEqual(["UNAUTHENTICATED"]);
    } finally {
      await page.close();
    }
  });

  it("fits a 390 px screen: campaign page with its history and revert form, keys page with a secret", async () => {
    await campaignWithHistory("phone-spotify", 3);
    // A key listed beside the one created on the phone.
    const other = await gql(`mutation { createApiKey(name: "phone-other-key", role: VIEWER) { key } }`);
    expect(other.errors).toBeUndefined();
    const phone = await openPage(ADMIN_TOKEN, 390, 844);
    try {
      await openCampaign(phone, "phone-spotify");
      await revisionRow(phone, 1).waitFor();
      await revisionRow(phone, 1).locator("summary").click();
      await revisionRow(phone, 1).locator("button[data-action=revert]").click();
      await phone.locator("#revert-reason").waitFor();
      await waitForText(phone.locator("#feed"), "by env-admin");
      expect(await horizontalOverflow(phone)).toBe(0);
      expect(await controlsOffScreen(phone)).toEqual([]);
      await mkdir(ARTIFACTS, { recursive: true });
      await phone.screenshot({ path: path.join(ARTIFACTS, "dashboard-history-390.png"), fullPage: true });

      await phone.click("#nav-keys");
      await phone.fill("#key-name", "phone-key-with-a-rather-long-name-0123456789");
      await phone.click("#create-key");
      await phone.locator("#new-key-secret").waitFor();
      await phone.locator('#keys li[data-key-name="phone-key-with-a-rather-long-name-0123456789"]').waitFor();
      await phone.locator('#keys li[data-key-name="phone-other-key"]').waitFor();
      expect(await horizontalOverflow(phone)).toBe(0);
      expect(await controlsOffScreen(phone)).toEqual([]);
      await phone.screenshot({ path: path.join(ARTIFACTS, "dashboard-keys-390.png"), fullPage: true });
    } finally {
      await phone.close();
    }
  });
});

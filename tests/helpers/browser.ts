// Debian's Chromium through playwright-core (never a downloaded browser), and what the dashboard tests
// ask of a page: sign in, read what is shown, check that nothing is wider than the screen.
import { type Browser, chromium, type Locator, type Page } from "playwright-core";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill("#token", token);
  await page.click("#signin button[type=submit]");
  await page.locator("#app").waitFor({ state: "visible" });
}

/**
 * Pages a file has closed, kept open for its next test: a new tab costs Chromium ~0.55 s of CPU, a
 * navigation in an open one ~0.2 s (two cores, four files at a time). A kept page is handed out again
 * only through openSignedIn, which starts it from nothing: its routes, cookies, permissions and the
 * storage of the origin it opens are cleared, and the dashboard loads anew.
 */
const closedPages = new WeakMap<Browser, Page[]>();

async function reusablePage(browser: Browser): Promise<Page> {
  const kept = closedPages.get(browser)?.pop();
  if (kept && !kept.isClosed()) return kept;
  const page = await browser.newPage();
  const closeForGood = page.close.bind(page);
  // A test closes its page as usual; the page goes back to its browser's pool instead (a page that
  // cannot be reset is closed for good).
  page.close = async () => {
    try {
      await page.unrouteAll({ behavior: "ignoreErrors" });
      await page.goto("about:blank");
      await page.context().clearCookies();
      await page.context().clearPermissions();
      const pool = closedPages.get(browser) ?? [];
      closedPages.set(browser, pool);
      pool.push(page);
    } catch {
      await closeForGood().catch(() => undefined);
    }
  };
  return page;
}

/**
 * A page signed in the way a reload finds it: with the token and role the sign-in form stores in
 * sessionStorage (the form itself is dashboard.test.ts's subject). The page starts at once and the
 * dashboard confirms the token with `me` meanwhile, as after any reload.
 */
export async function openSignedIn(
  browser: Browser,
  baseUrl: string,
  token: string,
  role: "ADMIN" | "VIEWER",
  viewport = { width: 1366, height: 900 },
): Promise<Page> {
  const page = await reusablePage(browser);
  await page.setViewportSize(viewport);
  // The dashboard's origin, before the dashboard: its storage emptied (a kept page's included), then
  // what the sign-in form would have stored.
  await page.goto(`${baseUrl}/healthz`);
  await page.evaluate(
    (session) => {
      sessionStorage.clear();
      localStorage.clear();
      sessionStorage.setItem("bullseye.token", session.token);
      sessionStorage.setItem("bullseye.role", session.role);
    },
    { token, role },
  );
  await page.goto(`${baseUrl}/dashboard`);
  await page.locator("#app").waitFor({ state: "visible" });
  return page;
}

/** The element's text, whitespace collapsed. */
export async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

/** Waits until the locator's text contains `expected` (playwright-core has no web-first assertions). */
export async function waitForText(locator: Locator, expected: string, timeout = 10_000): Promise<void> {
  try {
    await locator.filter({ hasText: expected }).first().waitFor({ timeout });
  } catch (error) {
    const shown = await locator
      .first()
      .textContent({ timeout: 1_000 })
      .catch(() => "(nothing)");
    throw new Error(`waited ${timeout} ms for “${expected}” in ${locator}; it shows “${shown}”`, { cause: error });
  }
}

/** How far the page is wider than the window (0 = no horizontal overflow). */
export const horizontalOverflow = (page: Page): Promise<number> =>
  page.evaluate(
    () =>
      Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - document.documentElement.clientWidth,
  );

/**
 * Visible controls lying partly outside the window or outside their card, horizontally: cut off or
 * unreachable on that screen.
 */
export const controlsOffScreen = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>("button, a, input, select")]
      .filter((el) => el.offsetParent !== null)
      .filter((el) => {
        const box = el.getBoundingClientRect();
        const card = el.closest(".card")?.getBoundingClientRect();
        const left = Math.max(0, card?.left ?? 0);
        const right = Math.min(document.documentElement.clientWidth, card?.right ?? Number.POSITIVE_INFINITY);
        return box.left < left - 0.5 || box.right > right + 0.5;
      })
      .map((el) => el.id || el.textContent?.trim() || el.tagName),
  );

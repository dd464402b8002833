// The campaign list: one page of campaignsPage at a time ("50 of 12,000"), never the whole catalog.
// Search and filters run on the server; the live feed's changes refresh what is on screen (one query,
// debounced), and the served counts of the rows on screen are refreshed now and then.
import { ApiError } from "./api.ts";
import { count } from "./format.ts";
import { RowSet, tableHead } from "./list-rows.ts";
import {
  buildToolbar,
  describeFilter,
  isFiltered,
  type ListParams,
  readParams,
  toFilter,
  writeParams,
} from "./list-toolbar.ts";
import {
  CAMPAIGNS_PAGE,
  type CampaignPage,
  type CampaignRow,
  type CampaignState,
  ROW_STATS,
  SET_STATUS,
} from "./queries.ts";
import type { Session } from "./session.ts";
import { button, emptyState, h, type View } from "./view.ts";

const PAGE = 50;
const MAX_REFRESH = 500;
const SEARCH_DEBOUNCE_MS = 120;
const REFRESH_DEBOUNCE_MS = 250;
const STATS_EVERY_MS = 15_000;

type Load = "reset" | "more" | "refresh";

export function showCampaignList(session: Session, query: URLSearchParams): View {
  let params: ListParams = readParams(query);
  let rows: CampaignRow[] = [];
  let total: number | undefined;
  let endCursor: string | null = null;
  let hasNextPage = false;
  let inFlight: { kind: Load; abort: AbortController; done: Promise<void> } | undefined;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const toolbar = buildToolbar(params, (immediate) => {
    clearTimeout(typingTimer);
    if (immediate) apply();
    else typingTimer = setTimeout(apply, SEARCH_DEBOUNCE_MS);
  });
  const countEl = h("span", { id: "campaign-count", class: "count", "aria-live": "polite" });
  const error = h("p", { id: "campaigns-error", class: "field-error", hidden: true });
  const body = h("div", { id: "campaign-rows", role: "rowgroup" });
  const table = h(
    "div",
    { class: session.admin ? "campaigns with-actions" : "campaigns", role: "table", "aria-label": "Campaigns" },
    h("div", { role: "rowgroup" }, tableHead(session.admin)),
    body,
  );
  const empty = h("div", { id: "campaigns-empty", hidden: true });
  const more = button("Load more", () => void load("more", "more"), { id: "load-more", hidden: true });
  const rowSet = new RowSet(body, { admin: session.admin, toggle });
  const el = h(
    "section",
    { class: "card list", "aria-labelledby": "campaigns-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "campaigns-title" }, "Campaigns"),
      countEl,
      h("span", { class: "spacer" }),
      session.admin ? h("a", { class: "btn btn-primary", href: "#/new", id: "new-campaign" }, "New campaign") : null,
    ),
    toolbar.el,
    error,
    table,
    empty,
    h("div", { class: "list-foot" }, more),
  );

  function apply(): void {
    const next = toolbar.read();
    if (JSON.stringify(next) === JSON.stringify(params)) return;
    params = next;
    // replaceState: typing must not add a history entry per keystroke, nor fire hashchange.
    history.replaceState(null, "", writeParams(params));
    void load("reset", "search");
  }

  async function load(kind: Load, reason: string): Promise<void> {
    // The next page follows whatever is loading (its cursor comes from it); a second click is one.
    while (kind === "more" && inFlight && inFlight.kind !== "more") await inFlight.done;
    if (disposed || (kind === "more" && inFlight)) return;
    if (kind === "refresh" && inFlight) {
      // A reset in flight answers for everything; a refresh asked during another runs after it.
      scheduleRefresh();
      return;
    }
    inFlight?.abort.abort();
    const abort = new AbortController();
    let finish = () => {};
    inFlight = { kind, abort, done: new Promise<void>((resolve) => (finish = resolve)) };
    const first = kind === "refresh" ? Math.min(MAX_REFRESH, Math.max(PAGE, rows.length)) : PAGE;
    try {
      const { campaignsPage: page } = await session.api.query<{ campaignsPage: CampaignPage }>(
        CAMPAIGNS_PAGE,
        {
          filter: toFilter(params),
          orderBy: params.sort,
          first,
          after: kind === "more" ? endCursor : null,
          withTotal: kind !== "more",
        },
        { signal: abort.signal, partial: (errors) => showError(errors[0]?.message) },
      );
      if (disposed) return;
      rows = kind === "more" ? rows.concat(page.nodes) : page.nodes;
      if (kind !== "more") total = page.totalCount;
      endCursor = page.endCursor;
      hasNextPage = page.hasNextPage;
      session.cache.put(page.nodes);
      if (!page.nodes.some((n) => n.stats === null)) showError(undefined);
      toolbar.setError(undefined);
      render(reason);
    } catch (e) {
      if (disposed || (e instanceof ApiError && e.code === "ABORTED")) return;
      const fields = e instanceof ApiError ? Object.entries(e.fields) : [];
      if (fields.length > 0) {
        toolbar.setError(fields.map(([path, message]) => `${fieldName(path)}: ${message}`).join("; "));
        rows = [];
        total = 0;
        hasNextPage = false;
        render(reason);
      } else if (!(e instanceof ApiError && e.code === "UNREACHABLE")) showError((e as Error).message);
    } finally {
      if (inFlight?.abort === abort) inFlight = undefined;
      finish();
    }
  }

  function render(reason: string): void {
    const started = performance.now();
    rowSet.render(rows);
    const shown = rows.length;
    countEl.textContent = total === undefined ? "" : `${count(shown)} of ${count(total)}`;
    more.hidden = !hasNextPage;
    more.textContent = `Load ${count(Math.min(PAGE, (total ?? 0) - shown))} more`;
    table.hidden = shown === 0;
    empty.hidden = shown > 0;
    if (shown === 0) empty.replaceChildren(emptyFor());
    // For scripts/dashboard-timings.ts: when the list was drawn, why, and what drawing it cost.
    const renderMs = performance.now() - started;
    performance.mark("bullseye:list-rendered", { detail: { reason, rows: shown, total, renderMs } });
  }

  function emptyFor(): HTMLElement {
    if (isFiltered(params)) {
      return emptyState(
        `No campaign ${describeFilter(params)}.`,
        "Try other words, or clear the search and filters.",
        button("Clear search and filters", () => {
          location.hash = "#/";
        }),
      );
    }
    return session.admin
      ? emptyState(
          "No campaigns yet.",
          "Create one here, or import many at once with importCampaigns.",
          h("a", { class: "btn btn-primary", href: "#/new" }, "Create a campaign"),
        )
      : emptyState("No campaigns yet.", "Campaigns created by an admin appear here as they are made.");
  }

  function showError(message: string | undefined): void {
    error.hidden = !message;
    error.textContent = message ?? "";
  }

  async function toggle(row: CampaignRow, toggleButton: HTMLButtonElement): Promise<void> {
    toggleButton.disabled = true;
    try {
      const { updateCampaign } = await session.api.query<{ updateCampaign: { campaign: CampaignState } }>(SET_STATUS, {
        id: row.id,
        status: row.status === "ACTIVE" ? "PAUSED" : "ACTIVE",
        expectedRevision: row.revision,
      });
      session.cache.put([updateCampaign.campaign]);
      await load("refresh", "toggle");
    } catch (e) {
      toggleButton.disabled = false;
      if (e instanceof ApiError && e.code === "CONFLICT") {
        showError(
          `${row.id} was changed by someone else meanwhile (now revision ${e.extensions?.revision}); refreshed, try again.`,
        );
        void load("refresh", "conflict");
      } else if (!(e instanceof ApiError && e.code === "UNREACHABLE")) showError((e as Error).message);
    }
  }

  function scheduleRefresh(): void {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void load("refresh", "live"), REFRESH_DEBOUNCE_MS);
  }

  /** Served counts move without rule changes: the rows on screen get theirs (not the whole page again). */
  async function refreshStats(): Promise<void> {
    if (document.hidden || inFlight || rows.length === 0) return;
    if (params.sort === "SERVED_LAST_HOUR") return void load("refresh", "stats");
    try {
      const ids = rows.slice(0, MAX_REFRESH).map((r) => r.id);
      const { campaignsPage } = await session.api.query<{
        campaignsPage: CampaignPage<Pick<CampaignRow, "id" | "stats">>;
      }>(ROW_STATS, { ids, first: ids.length });
      const stats = new Map(campaignsPage.nodes.map((n) => [n.id, n.stats]));
      rows = rows.map((r) => (stats.has(r.id) ? { ...r, stats: stats.get(r.id) ?? null } : r));
      if (!disposed) render("stats");
    } catch {
      // The next tick tries again; unreachable is the banner's to say.
    }
  }

  const stopChanges = session.on("changes", (changes) => {
    if (changes.some((c) => c.change.campaignId || c.change.categoryId)) scheduleRefresh();
  });
  const stopConnection = session.on("connection", (reachable) => {
    if (reachable) scheduleRefresh();
  });
  const stopStats = session.every(STATS_EVERY_MS, () => void refreshStats());
  void load("reset", "open");

  return {
    el,
    dispose() {
      disposed = true;
      clearTimeout(typingTimer);
      clearTimeout(refreshTimer);
      inFlight?.abort.abort();
      stopChanges();
      stopConnection();
      stopStats();
    },
  };
}

/** "filter.targets.countries.0" → "country". */
function fieldName(path: string): string {
  const match = /^filter\.targets\.(\w+)/.exec(path);
  if (!match) return path.replace(/^filter\./, "");
  return (
    { apps: "app", countries: "country", os: "os", categories: "category" }[match[1] as string] ?? match[1] ?? path
  );
}
